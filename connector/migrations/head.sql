-- The schema connector/migrations build in a new SQLite database, and its one row:
-- a new database is made from this file. Written by `python -m connector.db`.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0007');
CREATE TABLE app_key (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	hint VARCHAR(8) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	limits_json TEXT DEFAULT '{}' NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (key_hash)
);
CREATE TABLE app_setting (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE conversation (
	id VARCHAR(32) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	provider VARCHAR(16), 
	model VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE message (
	id INTEGER NOT NULL, 
	conversation_id VARCHAR(32) NOT NULL, 
	position INTEGER NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	content VARCHAR NOT NULL, 
	reasoning_content VARCHAR, 
	parsed_json VARCHAR, 
	metrics_json VARCHAR, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(conversation_id) REFERENCES conversation (id) ON DELETE CASCADE
);
CREATE TABLE profile (
	id INTEGER NOT NULL, 
	display_name VARCHAR NOT NULL, 
	email VARCHAR NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE stored_response (
	id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	previous_response_id VARCHAR(64), 
	model VARCHAR(200) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	input_json VARCHAR NOT NULL, 
	response_json VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE "usage_inflight" (
	request_id VARCHAR(64) NOT NULL, 
	started_at DATETIME NOT NULL, 
	surface VARCHAR(16) NOT NULL, 
	client VARCHAR(64) DEFAULT 'unknown' NOT NULL, 
	kind VARCHAR(8) DEFAULT 'chat' NOT NULL, 
	provider VARCHAR(16) NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	structured BOOLEAN NOT NULL, 
	key_id VARCHAR(32), 
	key_name VARCHAR(64), 
	PRIMARY KEY (request_id)
)
 WITHOUT ROWID

;
CREATE TABLE usage_record (
	id INTEGER NOT NULL, 
	request_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	surface VARCHAR(8) NOT NULL, 
	provider VARCHAR(16) NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	error_type VARCHAR(64), 
	prompt_tokens INTEGER NOT NULL, 
	completion_tokens INTEGER NOT NULL, 
	reasoning_tokens INTEGER NOT NULL, 
	total_tokens INTEGER NOT NULL, 
	latency_ms FLOAT NOT NULL, 
	ttft_ms FLOAT, 
	cost_usd FLOAT NOT NULL, 
	reference_cost_usd FLOAT, 
	structured BOOLEAN NOT NULL, client VARCHAR(64) DEFAULT 'unknown' NOT NULL, kind VARCHAR(8) DEFAULT 'chat' NOT NULL, endpoint VARCHAR(32), tried VARCHAR(200), saved_usd FLOAT DEFAULT '0' NOT NULL, key_id VARCHAR(32), key_name VARCHAR(64), overhead_ms FLOAT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_usage_record_created_at ON usage_record (created_at);
CREATE INDEX ix_conversation_updated_at ON conversation (updated_at);
CREATE INDEX ix_message_conversation_id ON message (conversation_id);
CREATE INDEX ix_usage_record_client ON usage_record (client);
CREATE INDEX ix_stored_response_created_at ON stored_response (created_at);
CREATE INDEX ix_usage_record_key_id ON usage_record (key_id) WHERE key_id IS NOT NULL;
