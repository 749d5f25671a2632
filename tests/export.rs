//! `git lineage export` (issue 9): OpenLineage events checked against the specification's
//! own JSON schemas (`tests/openlineage-schema/`, offline), read back by `import`, POSTed to a
//! real HTTP endpoint the test runs; the Cypher script sent over Bolt to a Bolt peer the test
//! runs (no Neo4j or Memgraph server can be installed here).

// The helpers below (HTTP endpoint, Bolt peer, schema checks) are test code too: a failed
// unwrap there is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use super::common::repo::TestRepo;
use super::common::{repo_root, run_in, run_with_env};

const ORDERS: &str = "INSERT INTO mart.orders
SELECT o.id, c.region,
       CASE WHEN o.amount > 100 THEN 'big' ELSE 'small' END AS size,
       row_number() OVER (PARTITION BY c.region ORDER BY o.amount) AS rank
FROM raw.orders o JOIN raw.customers c ON o.customer_id = c.id
WHERE o.status = 'paid'
";
const DAILY: &str = "INSERT INTO mart.daily
SELECT region, count(*) AS n FROM mart.orders GROUP BY region ORDER BY region
";

/// A repository with column and indirect lineage, an `origin` remote, and (when `runs`) a
/// successful, a failed and an unplaced run recorded on HEAD.
fn fixture(runs: bool) -> (TestRepo, String) {
    let mut repo = TestRepo::new();
    repo.git(&["remote", "add", "origin", "git@example.com:team/etl.git"]);
    repo.commit(&[("etl/orders.sql", ORDERS), ("etl/daily.sql", DAILY)], "pipeline");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    if runs {
        for args in [
            &["run", "--transformation", "etl/orders.sql#1", "--rows-out", "4", "--", "true"][..],
            &["run", "--transformation", "etl/daily.sql#1", "--", "false"][..],
            &["run", "--", "true"][..],
        ] {
            repo.lineage(args);
        }
    }
    (repo, head)
}

/// The vendored OpenLineage schemas and the custom run facet's, by `$id`.
fn registry() -> jsonschema::Registry<'static> {
    let dir = repo_root().join("tests/openlineage-schema");
    let mut files = vec![
        dir.join("OpenLineage.json"),
        repo_root().join("docs/openlineage/GitLineageRunFacet.json"),
    ];
    for entry in std::fs::read_dir(dir.join("facets")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let mut builder = jsonschema::Registry::new();
    for file in files {
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let id = schema["$id"].as_str().unwrap().to_string();
        builder = builder.add(id, schema).unwrap();
    }
    builder.prepare().unwrap()
}

/// Check `instance` against the schema definition `url` names (`…json#/$defs/Name`).
fn check(registry: &jsonschema::Registry, url: &str, instance: &Value) -> Result<(), String> {
    let validator = jsonschema::options()
        .with_registry(registry)
        .should_validate_formats(true)
        .build(&json!({ "$ref": url }))
        .map_err(|e| format!("no schema for {url}: {e}"))?;
    let errors: Vec<String> = validator.iter_errors(instance).map(|e| e.to_string()).collect();
    if errors.is_empty() { Ok(()) } else { Err(format!("{url}: {}", errors.join("; "))) }
}

/// Check an event against the event schema its `schemaURL` names and each facet against the
/// facet schema its `_schemaURL` names.
fn validate(registry: &jsonschema::Registry, event: &Value) -> Result<(), String> {
    let url = event["schemaURL"].as_str().ok_or("no schemaURL")?;
    check(registry, url, event)?;
    let mut bags = vec![&event["job"]["facets"], &event["run"]["facets"]];
    for key in ["inputs", "outputs"] {
        for dataset in event[key].as_array().into_iter().flatten() {
            bags.extend([&dataset["facets"], &dataset["inputFacets"], &dataset["outputFacets"]]);
        }
    }
    for (name, facet) in bags.into_iter().filter_map(Value::as_object).flatten() {
        let url = facet["_schemaURL"].as_str().ok_or(format!("facet {name} has no _schemaURL"))?;
        if url.contains("/SourceCodeLocationJobFacet.json") {
            // Its schema file is not vendored (tests/openlineage-schema/NOTICE.md): the core
            // schema checked it as a JobFacet; its own required fields here.
            if !(facet["type"].is_string() && facet["url"].is_string()) {
                return Err(format!("sourceCodeLocation lacks type or url: {facet}"));
            }
            continue;
        }
        check(registry, url, facet).map_err(|e| format!("facet {name}: {e}"))?;
    }
    Ok(())
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn openlineage_events_are_valid_against_the_specification() {
    let (repo, head) = fixture(true);
    let out = repo.lineage(&["export", "openlineage"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("1 run(s) recorded on HEAD name no transformation"),
        "{}",
        out.stderr
    );
    let events = lines(&out.stdout);
    let registry = registry();
    for event in &events {
        if let Err(problem) = validate(&registry, event) {
            panic!("{problem}\n{event:#}");
        }
    }
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            let schema = e["schemaURL"].as_str().unwrap().rsplit('/').next().unwrap();
            (schema, e["eventType"].as_str().unwrap_or("-"))
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("JobEvent", "-"),
            ("JobEvent", "-"),
            ("RunEvent", "START"),
            ("RunEvent", "COMPLETE"),
            ("RunEvent", "START"),
            ("RunEvent", "FAIL"),
        ]
    );
    // The job of etl/orders.sql: direct, column-level indirect and dataset-level indirect
    // lineage in one facet; datasets in the default namespace.
    let orders = events.iter().find(|e| e["job"]["name"] == "etl/orders.sql#1").unwrap();
    assert_eq!(orders["job"]["namespace"], "example.com/team/etl");
    assert_eq!(orders["job"]["facets"]["sourceCodeLocation"]["version"], head.as_str());
    let lineage = &orders["outputs"][0]["facets"]["columnLineage"];
    let inputs = |field: &str| -> Vec<(String, String)> {
        lineage["fields"][field]["inputFields"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| {
                i["transformations"].as_array().unwrap().iter().map(move |t| {
                    let kind = format!("{}/{}", t["type"], t["subtype"]).replace('"', "");
                    (
                        format!("{}.{}", i["name"].as_str().unwrap(), i["field"].as_str().unwrap()),
                        kind,
                    )
                })
            })
            .collect()
    };
    assert_eq!(inputs("id"), [("raw.orders.id".to_string(), "DIRECT/null".to_string())]);
    assert!(inputs("size").contains(&("raw.orders.amount".into(), "INDIRECT/CONDITIONAL".into())));
    assert!(inputs("rank").contains(&("raw.customers.region".into(), "INDIRECT/WINDOW".into())));
    let whole: Vec<(&str, &str)> = lineage["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (i["field"].as_str().unwrap(), i["transformations"][0]["subtype"].as_str().unwrap())
        })
        .collect();
    for expected in [("customer_id", "JOIN"), ("id", "JOIN"), ("status", "FILTER")] {
        assert!(whole.contains(&expected), "{expected:?} in {whole:?}");
    }
    assert_eq!(orders["inputs"][0]["namespace"], "warehouse");
    // The runs: ends carry the measurements, the failure its message, rows where one
    // dataset can take them; the same run id on both events of a run.
    let complete = &events[3];
    assert_eq!(complete["run"]["runId"], events[2]["run"]["runId"]);
    assert_eq!(complete["run"]["facets"]["gitLineage_run"]["status"], "success");
    assert_eq!(complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"], 4);
    let fail = &events[5];
    assert_eq!(fail["run"]["facets"]["errorMessage"]["message"], "exited with code 1");
    assert_ne!(fail["run"]["runId"], complete["run"]["runId"]);

    // Exporting again gives the same bytes (deterministic run ids and times).
    assert_eq!(repo.lineage(&["export", "openlineage"]).stdout, out.stdout);
}

#[test]
fn a_broken_event_fails_validation() {
    let (repo, _) = fixture(true);
    let events = lines(&repo.lineage(&["export", "openlineage"]).stdout);
    let registry = registry();
    let mut no_run_id = events[2].clone();
    no_run_id["run"].as_object_mut().unwrap().remove("runId");
    let mut bad_uuid = events[2].clone();
    bad_uuid["run"]["runId"] = json!("run-1");
    let mut bad_type = events[2].clone();
    bad_type["eventType"] = json!("DONE");
    let mut no_field = events[0].clone();
    let facet = no_field["outputs"][0]["facets"]["columnLineage"]["dataset"][0].as_object_mut();
    facet.unwrap().remove("field");
    let mut no_producer = events[3].clone();
    no_producer["run"]["facets"]["gitLineage_run"].as_object_mut().unwrap().remove("_producer");
    let mut bad_measure = events[3].clone();
    bad_measure["run"]["facets"]["gitLineage_run"]["wallMs"] = json!("slow");
    for broken in [no_run_id, bad_uuid, bad_type, no_field, no_producer, bad_measure] {
        assert!(validate(&registry, &broken).is_err(), "accepted: {broken:#}");
    }
}

#[test]
fn exported_runs_import_back_onto_the_same_transformations() {
    let (repo, head) = fixture(true);
    let events = repo.path().join("events.jsonl");
    let out = repo.lineage(&["export", "openlineage", "--out", events.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A clone has the commits, not the run notes.
    let clone = tempfile::tempdir().unwrap();
    let cloned = clone.path().join("etl");
    let status = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(repo.path())
        .arg(&cloned)
        .status()
        .unwrap();
    assert!(status.success());
    let out = run_in(&cloned, &["import", "openlineage", events.to_str().unwrap()], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let note = run_git(&cloned, &["notes", "--ref", "lineage-runs", "show", &head]);
    let mut runs: Vec<(String, String, String)> = lines(&note)
        .iter()
        .map(|r| {
            (
                r["transformation"].as_str().unwrap_or("?").to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    runs.sort();
    // Exported again from the clone, the imported runs are left out: their producer's
    // backend has them.
    let again = run_in(&cloned, &["export", "openlineage"], None);
    assert!(
        again.stderr.contains("2 run(s) recorded on HEAD were imported from OpenLineage"),
        "{}",
        again.stderr
    );
    assert_eq!(lines(&again.stdout).len(), 2, "the two job events only");
    assert_eq!(
        runs,
        [
            ("etl/daily.sql#1".to_string(), "failed".to_string(), head.clone()),
            ("etl/orders.sql#1".to_string(), "success".to_string(), head.clone()),
        ]
    );
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn openlineage_export_snapshot() {
    let (repo, head) = fixture(false);
    let out = repo.lineage(&["export", "openlineage"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pretty: Vec<String> =
        lines(&out.stdout).iter().map(|e| serde_json::to_string_pretty(e).unwrap()).collect();
    let text = pretty
        .join("\n")
        .replace(&head, "<commit>")
        .replace(concat!("git-lineage:", env!("CARGO_PKG_VERSION")), "git-lineage:<version>");
    insta::assert_snapshot!("export_openlineage_events", text);
}

/// An HTTP request as the endpoint received it.
#[derive(Debug, Clone)]
struct Request {
    line: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// A real HTTP/1.1 endpoint on a loopback port: it answers every request with `status` and
/// `answer` and keeps what it received. Stop it with `stop`.
struct Endpoint {
    url: String,
    received: Arc<Mutex<Vec<Request>>>,
    thread: JoinHandle<()>,
    stop: Arc<Mutex<bool>>,
}

impl Endpoint {
    fn start(status: &'static str, answer: &'static str) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1/lineage", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(Mutex::new(false));
        let (keep, stopped) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if *stopped.lock().unwrap() {
                    return;
                }
                let Ok(stream) = stream else { continue };
                serve(stream, status, answer, &keep);
            }
        });
        Endpoint { url, received, thread, stop }
    }

    fn stop(self) -> Vec<Request> {
        *self.stop.lock().unwrap() = true;
        let _ =
            TcpStream::connect(self.url.trim_start_matches("http://").split('/').next().unwrap());
        self.thread.join().unwrap();
        self.received.lock().unwrap().clone()
    }
}

/// Requests on one connection, one after the other (keep-alive).
fn serve(stream: TcpStream, status: &str, answer: &str, keep: &Mutex<Vec<Request>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            headers.insert(name.to_ascii_lowercase(), value.trim().to_string());
        }
        let length: usize = headers.get("content-length").map_or(0, |l| l.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        keep.lock().unwrap().push(Request {
            line: line.trim_end().to_string(),
            headers,
            body: String::from_utf8(body).unwrap(),
        });
        let response =
            format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{answer}", answer.len());
        writer.write_all(response.as_bytes()).unwrap();
    }
}

#[test]
fn openlineage_events_are_posted_to_an_endpoint() {
    let (repo, _) = fixture(true);
    let printed = repo.lineage(&["export", "openlineage"]).stdout;
    let endpoint = Endpoint::start("201 Created", "");
    let url = endpoint.url.clone();
    let out = run_with_env(
        repo.path(),
        &["export", "openlineage", "--url", &url],
        None,
        &[("OPENLINEAGE_API_KEY", "s3cret")],
    );
    let received = endpoint.stop();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("6 events sent to"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let registry = registry();
    let sent: Vec<Value> =
        received.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(sent, lines(&printed), "the endpoint got what the file would hold, in order");
    for (request, event) in received.iter().zip(&sent) {
        assert_eq!(request.line, "POST /api/v1/lineage HTTP/1.1");
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["authorization"], "Bearer s3cret");
        validate(&registry, event).unwrap();
    }
}

#[test]
fn a_refused_event_is_reported_with_the_servers_answer() {
    let (repo, _) = fixture(false);
    let endpoint = Endpoint::start("422 Unprocessable Entity", "{\"error\":\"bad namespace\"}");
    let url = endpoint.url.clone();
    let out = repo.lineage(&["export", "openlineage", "--url", &url]);
    let received = endpoint.stop();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("refused event 1 of 2 (422"), "{}", out.stderr);
    assert!(out.stderr.contains("bad namespace"), "{}", out.stderr);
    assert_eq!(received.len(), 1, "the export stops at the first refusal");
    assert!(!received[0].headers.contains_key("authorization"));
}

/// PackStream, read independently of the client's code: a value and what follows it.
fn unpack(bytes: &[u8]) -> (Value, &[u8]) {
    let (marker, rest) = (bytes[0], &bytes[1..]);
    let sized = |rest: &[u8], width: usize| -> (usize, usize) {
        (rest[..width].iter().fold(0, |n, b| n * 256 + *b as usize), width)
    };
    let (kind, n, rest) = match marker {
        0x80..=0x8F => ('s', (marker & 0x0F) as usize, rest),
        0x90..=0x9F => ('l', (marker & 0x0F) as usize, rest),
        0xA0..=0xAF => ('m', (marker & 0x0F) as usize, rest),
        0xB0..=0xBF => ('t', (marker & 0x0F) as usize, rest),
        0xD0..=0xD2 | 0xD4..=0xD6 | 0xD8..=0xDA => {
            let (n, w) = sized(rest, 1 << (marker & 0x03));
            (['s', 'l', 'm'][((marker >> 2) & 0x03) as usize], n, &rest[w..])
        }
        0x00..=0x7F => return (json!(marker), rest),
        0xF0..=0xFF => return (json!(marker.cast_signed()), rest),
        0xC0 => return (Value::Null, rest),
        0xC2 | 0xC3 => return (json!(marker == 0xC3), rest),
        0xC8 => return (json!(rest[0].cast_signed()), &rest[1..]),
        other => panic!("unexpected PackStream marker {other:#x}"),
    };
    match kind {
        's' => (json!(std::str::from_utf8(&rest[..n]).unwrap()), &rest[n..]),
        'm' => {
            let (mut map, mut rest) = (serde_json::Map::new(), rest);
            for _ in 0..n {
                let (k, r) = unpack(rest);
                let (v, r) = unpack(r);
                map.insert(k.as_str().unwrap().to_string(), v);
                rest = r;
            }
            (Value::Object(map), rest)
        }
        _ => {
            let (tag, mut rest) =
                if kind == 't' { (Some(rest[0]), &rest[1..]) } else { (None, rest) };
            let mut items = Vec::new();
            for _ in 0..n {
                let (v, r) = unpack(rest);
                items.push(v);
                rest = r;
            }
            match tag {
                Some(tag) => (json!({"signature": tag, "fields": items}), rest),
                None => (Value::Array(items), rest),
            }
        }
    }
}

fn read_message(stream: &mut TcpStream) -> Option<Value> {
    let mut message = Vec::new();
    loop {
        let mut size = [0u8; 2];
        stream.read_exact(&mut size).ok()?;
        let size = u16::from_be_bytes(size) as usize;
        if size == 0 {
            break;
        }
        let mut chunk = vec![0; size];
        stream.read_exact(&mut chunk).ok()?;
        message.extend(chunk);
    }
    Some(unpack(&message).0)
}

/// A Bolt peer on a loopback port that agrees on `version`, answers SUCCESS to everything
/// but the RUN numbered `fail_run` (FAILURE), and returns every message it read.
fn bolt_peer(version: [u8; 4], fail_run: Option<usize>) -> (String, JoinHandle<Vec<Value>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("bolt://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_mins(1))).unwrap();
        let mut handshake = [0u8; 20];
        stream.read_exact(&mut handshake).unwrap();
        assert_eq!(handshake[..4], [0x60, 0x60, 0xB0, 0x17], "the Bolt preamble");
        let offered: Vec<[u8; 4]> =
            handshake[4..].chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
        assert!(
            offered
                .iter()
                .any(|o| o[3] == version[3] && o[2] >= version[2] && o[2] - o[1] <= version[2]),
            "{version:?} is offered in {offered:?}"
        );
        stream.write_all(&version).unwrap();
        let (mut messages, mut runs) = (Vec::new(), 0);
        while let Some(message) = read_message(&mut stream) {
            let signature = message["signature"].as_u64().unwrap();
            messages.push(message);
            if signature == 0x02 {
                break; // GOODBYE
            }
            if signature == 0x10 {
                runs += 1;
            }
            let failed_before =
                fail_run.is_some_and(|f| runs > f || (runs == f && signature != 0x10));
            let reply: &[u8] = if signature == 0x10 && Some(runs) == fail_run {
                &[
                    0xB1, 0x7F, 0xA2, 0x84, b'c', b'o', b'd', b'e', 0x85, b'N', b'e', b'o', b'.',
                    b'X', 0x87, b'm', b'e', b's', b's', b'a', b'g', b'e', 0x84, b'b', b'o', b'o',
                    b'm',
                ]
            } else if failed_before {
                &[0xB1, 0x7E, 0xA0] // IGNORED: a failed transaction ignores what follows
            } else {
                &[0xB1, 0x70, 0xA0] // SUCCESS {}
            };
            let mut out = u16::try_from(reply.len()).unwrap().to_be_bytes().to_vec();
            out.extend(reply);
            out.extend([0, 0]);
            // The client may have closed after a failure: a lost reply is fine then.
            let _ = stream.write_all(&out);
        }
        messages
    });
    (uri, thread)
}

fn script_statements(repo: &TestRepo) -> Vec<String> {
    repo.lineage(&["export", "cypher"])
        .stdout
        .lines()
        .filter(|l| !l.starts_with("//"))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect()
}

#[test]
fn cypher_goes_over_bolt_in_one_transaction() {
    let (repo, _) = fixture(false);
    let statements = script_statements(&repo);
    assert!(statements.len() > 20, "{statements:?}");
    for (version, logon) in [([0, 0, 4, 5], true), ([0, 0, 4, 4], false)] {
        let (uri, peer) = bolt_peer(version, None);
        let out = run_with_env(
            repo.path(),
            &["export", "cypher", "--bolt", &uri, "--user", "neo4j"],
            None,
            &[("NEO4J_PASSWORD", "s3cret")],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stderr.contains("statements committed in one transaction"), "{}", out.stderr);
        let messages = peer.join().unwrap();
        let signatures: Vec<u64> =
            messages.iter().map(|m| m["signature"].as_u64().unwrap()).collect();
        let mut expected = vec![0x01];
        if logon {
            expected.push(0x6A);
        }
        expected.push(0x11);
        for _ in &statements {
            expected.extend([0x10, 0x3F]);
        }
        expected.extend([0x12, 0x02]);
        assert_eq!(signatures, expected, "HELLO, LOGON, BEGIN, RUN + PULL each, COMMIT, GOODBYE");
        let auth = if logon { &messages[1]["fields"][0] } else { &messages[0]["fields"][0] };
        assert_eq!(
            (&auth["scheme"], &auth["principal"], &auth["credentials"]),
            (&json!("basic"), &json!("neo4j"), &json!("s3cret"))
        );
        if logon {
            assert!(messages[0]["fields"][0]["bolt_agent"]["product"].is_string());
            assert!(messages[0]["fields"][0].get("credentials").is_none());
        }
        let sent: Vec<String> = messages
            .iter()
            .filter(|m| m["signature"] == 0x10)
            .map(|m| m["fields"][0].as_str().unwrap().to_string())
            .collect();
        assert_eq!(sent, statements, "every MERGE statement, in order");
        let pull = messages.iter().find(|m| m["signature"] == 0x3F).unwrap();
        assert_eq!(pull["fields"][0]["n"], -1);
    }
}

#[test]
fn a_failing_statement_commits_nothing() {
    let (repo, _) = fixture(false);
    let statements = script_statements(&repo);
    let (uri, peer) = bolt_peer([0, 0, 4, 5], Some(3));
    let out = repo.lineage(&["export", "cypher", "--bolt", &uri]);
    let messages = peer.join().unwrap();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("statement 3 failed, nothing was committed: Neo.X: boom"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&statements[2]), "{}", out.stderr);
    let signatures: Vec<u64> = messages.iter().map(|m| m["signature"].as_u64().unwrap()).collect();
    assert!(!signatures.contains(&0x12), "no COMMIT: {signatures:?}");
    assert_eq!(messages[1]["fields"][0]["scheme"], "none", "no user, no login");
    // Pipelined: the statements after the failure reached the server and were ignored.
    assert_eq!(signatures.iter().filter(|s| **s == 0x10).count(), statements.len());
    assert_eq!(signatures.last(), Some(&0x02), "GOODBYE, and no COMMIT before it");
}

/// boltkit's `boltstub` (tests/setup-python), when installed: a Bolt server written by the
/// Neo4j driver team that plays a script and exits 0 only when the client sent exactly the
/// scripted messages.
fn boltstub(test: &str) -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("GIT_LINEAGE_VENV")
        .map_or_else(|| repo_root().join(".venv"), std::path::PathBuf::from);
    let stub = venv.join("bin/boltstub");
    if !stub.is_file() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no boltstub at {} (run tests/setup-python)",
            stub.display()
        );
    }
    stub.is_file().then_some(stub)
}

#[test]
fn cypher_loads_into_boltkits_stub_server() {
    let Some(stub) = boltstub("cypher_loads_into_boltkits_stub_server") else { return };
    let (repo, _) = fixture(false);
    // The script boltstub plays: Bolt 4.0, login, one transaction of every statement.
    let mut script = vec![
        "!: BOLT 4".to_string(),
        format!(
            "C: HELLO {}",
            json!({"user_agent": concat!("git-lineage/", env!("CARGO_PKG_VERSION")),
                   "scheme": "basic", "principal": "neo4j", "credentials": "s3cret"})
        ),
        r#"S: SUCCESS {"server": "Neo4j/4.0.0", "connection_id": "bolt-1"}"#.to_string(),
        "C: BEGIN {}".to_string(),
        "S: SUCCESS {}".to_string(),
    ];
    for statement in script_statements(&repo) {
        script.push(format!("C: RUN {} {{}} {{}}", json!(statement)));
        script.push(r#"   PULL {"n": -1}"#.to_string());
        script.push(r#"S: SUCCESS {"fields": []}"#.to_string());
        script.push("   SUCCESS {}".to_string());
    }
    script.extend(
        ["C: COMMIT", r#"S: SUCCESS {"bookmark": "b1"}"#, "C: GOODBYE", "S: <EXIT>"]
            .map(String::from),
    );
    let script_path = repo.path().join("load.script");
    std::fs::write(&script_path, script.join("\n") + "\n").unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new(&stub)
        .arg(port.to_string())
        .arg(&script_path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // It says on standard output when it listens.
    let mut log = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("Listening") {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "boltstub stopped before listening");
    }
    let out = run_with_env(
        repo.path(),
        &["export", "cypher", "--bolt", &format!("bolt://127.0.0.1:{port}"), "--user", "neo4j"],
        None,
        &[("NEO4J_PASSWORD", "s3cret")],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = server.kill();
            panic!("boltstub did not finish");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut rest = String::new();
    let _ = log.read_to_string(&mut rest);
    assert_eq!(out.code, 0, "{}\nboltstub: {rest}", out.stderr);
    assert!(out.stderr.contains("committed in one transaction (Bolt 4.0)"), "{}", out.stderr);
    assert!(status.success(), "boltstub saw other messages than scripted: {rest}");
}

#[test]
fn a_large_script_goes_over_bolt_in_batches_in_order() {
    let mut repo = TestRepo::new();
    let sql = (0..40)
        .map(|i| format!("INSERT INTO mart.t{i} SELECT a, b FROM raw.s{i} WHERE c = {i};"))
        .collect::<Vec<_>>()
        .join("\n");
    repo.commit(&[("etl/many.sql", &sql)], "many");
    let statements = script_statements(&repo);
    assert!(statements.len() > 250, "more than two batches: {}", statements.len());
    let (uri, peer) = bolt_peer([0, 0, 2, 5], None);
    let out = repo.lineage(&["export", "cypher", "--bolt", &uri]);
    let messages = peer.join().unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("(Bolt 5.2)"), "{}", out.stderr);
    let sent: Vec<&str> = messages
        .iter()
        .filter(|m| m["signature"] == 0x10)
        .map(|m| m["fields"][0].as_str().unwrap())
        .collect();
    assert_eq!(sent, statements.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(messages[messages.len() - 2]["signature"], 0x12, "COMMIT after the last");
}
