-- A state database written by revive-server before the storage layer (schema version 4, commit 246f1d4),
-- dumped with sqlite3 .dump: laptop MID1 mid-wipe, laptop DONE2 through every step. Made by hand once;
-- SqliteServicesTest.ADatabaseFromAnEarlierServerKeepsWorking loads it.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version VALUES(1);
INSERT INTO schema_version VALUES(2);
INSERT INTO schema_version VALUES(3);
INSERT INTO schema_version VALUES(4);
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO settings VALUES('default_workflow','default');
CREATE TABLE workflows(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, steps TEXT NOT NULL, created_at INTEGER NOT NULL);
INSERT INTO workflows VALUES(1,'default','[{"kind":"inventory","params":{}},{"kind":"wipe","params":{}},{"kind":"test","params":{}},{"kind":"deploy","params":{}},{"kind":"provision","params":{}},{"kind":"certify","params":{}},{"kind":"finish","params":{}}]',1796167258);
CREATE TABLE batches(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, donor TEXT NOT NULL DEFAULT '',
  workflow_id INTEGER REFERENCES workflows(id), image TEXT, created_at INTEGER NOT NULL);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY, system_uuid TEXT NOT NULL, serial TEXT NOT NULL, model TEXT NOT NULL,
  vendor TEXT NOT NULL DEFAULT '', macs TEXT NOT NULL DEFAULT '[]', inventory TEXT,
  batch_id INTEGER REFERENCES batches(id), workflow_id INTEGER REFERENCES workflows(id),
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  UNIQUE(system_uuid, serial, model));
INSERT INTO devices VALUES(1,'u-MID1','MID1','T480','LENOVO','["52:54:00:00:00:01"]','{"disks":[{"model":"TEST SSD","name":"nvme0n1","serial":"S1","transport":"nvme"},{"name":"sdb","serial":"U","transport":"USB"}]}',NULL,NULL,1796167258,1796167258);
INSERT INTO devices VALUES(2,'u-DONE2','DONE2','T480','LENOVO','["52:54:00:00:00:02"]','{"disks":[{"model":"TEST SSD","name":"nvme0n1","serial":"S1","transport":"nvme"},{"name":"sdb","serial":"U","transport":"USB"}]}',NULL,NULL,1796167258,1796167258);
CREATE TABLE agent_tokens(
  token_hash TEXT PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL);
INSERT INTO agent_tokens VALUES('62d1b51c74cf8eb9a45891fb73b6ac0311dcd1614369dde6e5c138f024f79443',1,1796167258);
INSERT INTO agent_tokens VALUES('0b47ede592285e483df40393d609dae6f47e5dffe3fa7608a7bf7a10f6bbdb93',2,1796167258);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
  workflow_id INTEGER NOT NULL REFERENCES workflows(id), state TEXT NOT NULL, image TEXT,
  created_at INTEGER NOT NULL, finished_at INTEGER);
INSERT INTO runs VALUES(1,1,1,'running',NULL,1796167258,NULL);
INSERT INTO runs VALUES(2,2,1,'done',NULL,1796167258,1796167258);
CREATE TABLE steps(
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL,
  kind TEXT NOT NULL, params TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0, started_at INTEGER, deadline INTEGER, finished_at INTEGER,
  error TEXT, checkpoint TEXT, UNIQUE(run_id, seq));
INSERT INTO steps VALUES(1,1,0,'inventory','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(2,1,1,'wipe','{}','running',1,1796167258,1796167858,NULL,NULL,NULL);
INSERT INTO steps VALUES(3,1,2,'test','{}','pending',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO steps VALUES(4,1,3,'deploy','{}','pending',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO steps VALUES(5,1,4,'provision','{}','pending',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO steps VALUES(6,1,5,'certify','{}','pending',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO steps VALUES(7,1,6,'finish','{}','pending',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO steps VALUES(8,2,0,'inventory','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(9,2,1,'wipe','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(10,2,2,'test','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(11,2,3,'deploy','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(12,2,4,'provision','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(13,2,5,'certify','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
INSERT INTO steps VALUES(14,2,6,'finish','{}','done',1,1796167258,1796167858,1796167258,NULL,NULL);
CREATE TABLE step_results(
  id INTEGER PRIMARY KEY, step_id INTEGER NOT NULL REFERENCES steps(id), attempt INTEGER NOT NULL,
  status TEXT NOT NULL, result TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
  recorded_at INTEGER NOT NULL, UNIQUE(step_id, attempt));
INSERT INTO step_results VALUES(1,1,1,'ok','{"grading":{"grade":"A"},"kind":"inventory"}','',1796167258);
INSERT INTO step_results VALUES(2,8,1,'ok','{"grading":{"grade":"A"},"kind":"inventory"}','',1796167258);
INSERT INTO step_results VALUES(3,9,1,'ok','{"drives":[{"drive":{"media":"ssd","model":"TEST SSD","name":"nvme0n1","serial":"S1","size_bytes":1073741824,"transport":"nvme"},"finished_at":"2026-11-22T10:01:00Z","method":"overwrite","nist_level":"Clear","pattern":"zeros","result":"passed","started_at":"2026-11-22T10:00:00Z","tool":"test","verification":{"bytes_checked":1073741824,"coverage_permille":1000,"method":"full","mismatches":0,"read_errors":0,"samples":256,"seed":"1"},"why":"test"}]}','',1796167258);
INSERT INTO step_results VALUES(4,10,1,'ok','{"grading":{"grade":"A"},"kind":"test"}','',1796167258);
INSERT INTO step_results VALUES(5,11,1,'ok','{"grading":{"grade":"A"},"kind":"deploy"}','',1796167258);
INSERT INTO step_results VALUES(6,12,1,'ok','{"grading":{"grade":"A"},"kind":"provision"}','',1796167258);
INSERT INTO step_results VALUES(7,13,1,'ok','{"grading":{"grade":"A"},"kind":"certify"}','',1796167258);
INSERT INTO step_results VALUES(8,14,1,'ok','{"grading":{"grade":"A"},"kind":"finish"}','',1796167258);
CREATE TABLE events(
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, device_id INTEGER REFERENCES devices(id),
  kind TEXT NOT NULL, data TEXT NOT NULL);
INSERT INTO events VALUES(1,1796167258,1,'enrolled','{"model":"T480","serial":"MID1"}');
INSERT INTO events VALUES(2,1796167258,1,'step-started','{"attempt":1,"kind":"inventory","step":1}');
INSERT INTO events VALUES(3,1796167258,1,'step-done','{"attempt":1,"error":"","kind":"inventory","step":1}');
INSERT INTO events VALUES(4,1796167258,1,'step-started','{"attempt":1,"kind":"wipe","step":2}');
INSERT INTO events VALUES(5,1796167258,2,'enrolled','{"model":"T480","serial":"DONE2"}');
INSERT INTO events VALUES(6,1796167258,2,'step-started','{"attempt":1,"kind":"inventory","step":8}');
INSERT INTO events VALUES(7,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"inventory","step":8}');
INSERT INTO events VALUES(8,1796167258,2,'step-started','{"attempt":1,"kind":"wipe","step":9}');
INSERT INTO events VALUES(9,1796167258,2,'certificate','{"certificate":"36bbfb15-e7b3-436e-a958-d5da2435b2a6","kind":"drive","result":"passed","step":9}');
INSERT INTO events VALUES(10,1796167258,2,'certificate','{"certificate":"e70b80d9-a51b-4e15-86d3-6abd4c8bfa02","kind":"laptop","result":"passed","step":9}');
INSERT INTO events VALUES(11,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"wipe","step":9}');
INSERT INTO events VALUES(12,1796167258,2,'step-started','{"attempt":1,"kind":"test","step":10}');
INSERT INTO events VALUES(13,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"test","step":10}');
INSERT INTO events VALUES(14,1796167258,2,'step-started','{"attempt":1,"kind":"deploy","step":11}');
INSERT INTO events VALUES(15,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"deploy","step":11}');
INSERT INTO events VALUES(16,1796167258,2,'step-started','{"attempt":1,"kind":"provision","step":12}');
INSERT INTO events VALUES(17,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"provision","step":12}');
INSERT INTO events VALUES(18,1796167258,2,'step-started','{"attempt":1,"kind":"certify","step":13}');
INSERT INTO events VALUES(19,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"certify","step":13}');
INSERT INTO events VALUES(20,1796167258,2,'step-started','{"attempt":1,"kind":"finish","step":14}');
INSERT INTO events VALUES(21,1796167258,2,'step-done','{"attempt":1,"error":"","kind":"finish","step":14}');
INSERT INTO events VALUES(22,1796167258,2,'workflow-done','{}');
CREATE TABLE images(
  name TEXT PRIMARY KEY, image_id TEXT NOT NULL, logical_size INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL, added_at INTEGER NOT NULL);
CREATE TABLE certificates(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
  step_id INTEGER REFERENCES steps(id), kind TEXT NOT NULL, body TEXT NOT NULL,
  created_at INTEGER NOT NULL, cert_id TEXT, result TEXT);
INSERT INTO certificates VALUES(1,2,9,'drive',replace('{"certificate":{"certificate_id":"36bbfb15-e7b3-436e-a958-d5da2435b2a6","device":{"asset_tag":"","device_id":2,"model":"T480","serial":"DONE2","system_uuid":"u-DONE2","vendor":"LENOVO"},"donor_batch":null,"drive":{"media":"ssd","model":"TEST SSD","name":"nvme0n1","serial":"S1","simulated":false,"size_bytes":1073741824,"transport":"nvme"},"format":"revive-erasure-certificate/1","issued_at":"2026-12-01T23:20:58Z","kind":"drive","operator":"","reason":"","result":"passed","reverification":{"done":false,"selected":true},"sanitization":{"finished_at":"2026-11-22T10:01:00Z","hpa_dco":"not reported","method":"overwrite","nist_level":"Clear","nist_reference":"NIST SP 800-88 Rev. 1 (Rev. 2 defers to IEEE 2883-2022)","pattern":"zeros","started_at":"2026-11-22T10:00:00Z","tool":"test","why":"test"},"smart":{"after":null,"before":null},"validator":null,"verification":{"bytes_checked":1073741824,"coverage_permille":1000,"method":"full","mismatches":0,"read_errors":0,"result":"passed","samples":256,"seed":"1"},"workshop":"Revive workshop"},"signature":{"alg":"ed25519","key_id":"87bc6692a39bd963","public_key":"kyXrQ6JNmSKSQWXfluKCvKYr2GPKDxIl0VHSfF5S0BQ=","sig":"epKA3j/pymd/7isuTYojugvFFPc4qiyY9a5aN9OL8wdUixVKWZPTpckJuQCWeUfjwoBkclRDbJATbnwteRdCCQ=="}}\n','\n',char(10)),1796167258,'36bbfb15-e7b3-436e-a958-d5da2435b2a6','passed');
INSERT INTO certificates VALUES(2,2,9,'laptop',replace('{"certificate":{"certificate_id":"e70b80d9-a51b-4e15-86d3-6abd4c8bfa02","device":{"asset_tag":"","device_id":2,"model":"T480","serial":"DONE2","system_uuid":"u-DONE2","vendor":"LENOVO"},"donor_batch":null,"drives":[{"certificate_id":"36bbfb15-e7b3-436e-a958-d5da2435b2a6","method":"overwrite","model":"TEST SSD","nist_level":"Clear","result":"passed","serial":"S1"}],"format":"revive-erasure-certificate/1","issued_at":"2026-12-01T23:20:58Z","kind":"laptop","operator":"","reason":"","result":"passed","reverification":{"done":false,"selected":true},"validator":null,"workshop":"Revive workshop"},"signature":{"alg":"ed25519","key_id":"87bc6692a39bd963","public_key":"kyXrQ6JNmSKSQWXfluKCvKYr2GPKDxIl0VHSfF5S0BQ=","sig":"PebRXgpgnWGQufaLr9RTdfrYxd/FbtBzqY7fIeU8m7frVRA1dKAuLwbEPxKUyEGgGauorqRjS9/Ge7fYOISwBA=="}}\n','\n',char(10)),1796167258,'e70b80d9-a51b-4e15-86d3-6abd4c8bfa02','passed');
CREATE TABLE operators(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE operator_tokens(
  token_hash TEXT PRIMARY KEY, operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, expires_at INTEGER);
CREATE TABLE boot_tokens(
  token_hash TEXT PRIMARY KEY, mac TEXT NOT NULL, issued_at INTEGER NOT NULL, used_at INTEGER);
CREATE INDEX runs_by_device ON runs(device_id, id);
CREATE INDEX steps_running ON steps(state, deadline);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE UNIQUE INDEX certificates_cert_id ON certificates(cert_id);
CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates BEGIN SELECT RAISE(ABORT, 'certificates are immutable'); END;
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates BEGIN SELECT RAISE(ABORT, 'certificates are immutable'); END;
CREATE INDEX boot_tokens_by_mac ON boot_tokens(mac, issued_at);
COMMIT;
