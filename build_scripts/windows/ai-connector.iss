; Inno Setup script for the AI Connector one-folder app.
; build_scripts/build.py --package passes /DAppVersion and /DSourceDir.
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\pyinstaller\dist\ai-connector"
#endif

[Setup]
AppId={{6C0F3E3A-6D0B-4E55-9B2D-3A7D7C1E2A11}
AppName=AI Connector
AppVersion={#AppVersion}
AppPublisher=AI Connector
DefaultDirName={autopf}\AI Connector
DefaultGroupName=AI Connector
DisableProgramGroupPage=yes
; Per-user install by default: no admin prompt for a desktop app.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputBaseFilename=ai-connector-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
UninstallDisplayIcon={app}\ai-connector.exe

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\AI Connector"; Filename: "{app}\ai-connector.exe"
Name: "{autodesktop}\AI Connector"; Filename: "{app}\ai-connector.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\ai-connector.exe"; Description: "{cm:LaunchProgram,AI Connector}"; Flags: nowait postinstall skipifsilent
