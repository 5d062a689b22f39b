// REST shapes, taken from the OpenAPI schema generated from the service
// (`npm run gen:api`), so a change in the service shows up as a type error here.
import type { components } from './schema'

type S = components['schemas']

export type ModelInfo = S['ModelInfo']
export type ProviderInfo = S['ProviderModels']
export type ModelsResponse = S['ModelsResponse']
export type ProviderName = S['ProviderModels']['name']
export type KeyStatus = S['ApiKeyStatus']
export type SettingsView = S['SettingsPublic']
export type SettingsUpdate = S['SettingsUpdate']
export type Profile = S['ProfilePublic']
export type ProviderTest = S['ProviderCheck']
export type Conversation = S['ConversationPublic']
export type ConversationDetail = S['ConversationDetail']
export type StoredMessage = S['MessagePublic']
export type MessageIn = S['MessageIn']
export type UsageReport = S['UsageSummary']
export type ClientUsage = S['ClientUsage']
