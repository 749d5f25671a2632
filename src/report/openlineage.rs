//! The lineage of a commit, and the runs recorded on it, as OpenLineage events (spec 2-0-2),
//! one JSON object a line: what Marquez's `/api/v1/lineage` takes one at a time and what
//! OpenLineage's file transport writes. See: issue 9.
//!
//! - Each transformation is a job named by its id (`path#line`) in the job namespace, and
//!   gets one `JobEvent`: static lineage, the spec's event for a job described rather than
//!   observed. Its inputs carry the columns read (`schema`), its outputs the columns written
//!   (`schema`) and their column lineage (`columnLineage` 1-2-0: direct edges as `DIRECT`,
//!   window and CASE keys as `INDIRECT` on the column they decide, filter, join, grouping and
//!   sort keys as `INDIRECT` entries of the facet's dataset-level `dataset` list).
//! - Each recorded run of a transformation gets a `START` and a `COMPLETE`, `FAIL` or `ABORT`
//!   `RunEvent` whose run id is derived from the commit, the transformation and the run, so
//!   exporting again sends the same runs, not new ones. Its measurements are the run facet
//!   `gitLineage_run` (`docs/openlineage/GitLineageRunFacet.json`); a failure's message is
//!   the `errorMessage` facet; rows are the input / output statistics facets where the run
//!   had one input / output to give them to.
//! - Jobs carry `jobType` (`BATCH`, integration `GIT_LINEAGE`) and `sourceCodeLocation` (git,
//!   the file at the commit): `git lineage import` reads runs back from these events.
//!
//! Event times are the commit's time and the runs' own times, never the time of the export:
//! the same commit exports the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::collect::record::RunRecord;
use crate::extract::{Fragment, IndirectKind, Kind, Language, Transformation};

/// The core schema the events follow.
pub const SPEC: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json";
/// Who produced the events: this program and its version.
pub const PRODUCER: &str = concat!("urn:git-lineage:", env!("CARGO_PKG_VERSION"));
/// The `$id` of the custom run facet's schema (`docs/openlineage/GitLineageRunFacet.json`).
pub const RUN_FACET_SCHEMA: &str = "urn:git-lineage:openlineage:facets:1-0-0:GitLineageRunFacet";
/// The custom run facet's name: OpenLineage asks custom facets for a prefix of their own.
pub const RUN_FACET: &str = "gitLineage_run";

const COLUMN_LINEAGE: &str = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet";
const SCHEMA: &str =
    "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
const JOB_TYPE: &str =
    "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";
const SOURCE_CODE_LOCATION: &str = "https://openlineage.io/spec/facets/1-1-0/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet";
const ERROR_MESSAGE: &str = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";
const INPUT_STATISTICS: &str = "https://openlineage.io/spec/facets/1-0-0/InputStatisticsInputDatasetFacet.json#/$defs/InputStatisticsInputDatasetFacet";
const OUTPUT_STATISTICS: &str = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet";

/// Where the events come from and how names are placed.
#[derive(Debug, Clone)]
pub struct Export<'a> {
    /// The jobs' namespace: one per repository.
    pub namespace: &'a str,
    /// The namespace of tables and views (files get `file`, URLs their scheme and host).
    pub dataset_namespace: &'a str,
    /// The commit whose lineage is exported.
    pub commit: &'a str,
    /// Its committer time, RFC 3339: the time of the job events.
    pub commit_time: &'a str,
    /// The repository's web address (`https://host/org/repo`), when it has one; else
    /// `repo_path` places the files.
    pub repo_url: Option<&'a str>,
    /// The work tree's absolute path, for `file://` addresses when there is no web address.
    pub repo_path: &'a str,
}

/// What [`events`] made of a commit.
#[derive(Debug, Clone, Default)]
pub struct Events {
    pub events: Vec<Value>,
    /// Runs of the commit that name no transformation of it (whole commands, or a
    /// transformation the commit does not have).
    pub unplaced: usize,
    /// Runs of the commit imported from OpenLineage events: left out, since the backend their
    /// producer reports to has them already, under their own run ids.
    pub from_openlineage: usize,
}

/// The events of a commit: a job event per transformation that reads or writes a dataset,
/// then, oldest first, the start and end events of each run of `runs` that belongs to one of
/// them (its `commit` and `transformation`).
pub fn events(fragments: &[Fragment], runs: &[RunRecord], export: &Export) -> Events {
    let mut jobs: BTreeMap<&str, (&Fragment, &Transformation)> = BTreeMap::new();
    let mut out = Vec::new();
    for fragment in fragments {
        for t in &fragment.transformations {
            if t.reads.is_empty() && t.writes.is_empty() {
                continue;
            }
            jobs.insert(&t.id, (fragment, t));
            let mut event = base(export.commit_time, "JobEvent");
            event.insert("job".into(), job(fragment, t, export));
            event.insert("inputs".into(), inputs(t, export));
            event.insert("outputs".into(), outputs(t, export));
            out.push(Value::Object(event));
        }
    }
    let (mut unplaced, mut from_openlineage) = (0, 0);
    let mut placed: Vec<(&RunRecord, &Fragment, &Transformation)> = Vec::new();
    for run in runs.iter().filter(|r| r.commit == export.commit) {
        if run.source == "openlineage" {
            from_openlineage += 1;
            continue;
        }
        match run.transformation.as_deref().and_then(|id| jobs.get(id)) {
            Some((fragment, t)) => placed.push((run, fragment, t)),
            None => unplaced += 1,
        }
    }
    placed.sort_by(|a, b| (&a.0.started_at, &a.2.id).cmp(&(&b.0.started_at, &b.2.id)));
    for (run, fragment, t) in placed {
        let Some(start) = crate::collect::record::parse_time(&run.started_at) else {
            unplaced += 1;
            continue;
        };
        let end = end_time(start, run.wall_ms);
        let id = run_id(export.commit, &t.id, run);
        let end_type = match run.status.as_str() {
            "success" => "COMPLETE",
            "killed" => "ABORT",
            _ => "FAIL",
        };
        for (kind, time) in [("START", run.started_at.clone()), (end_type, end)] {
            let mut event = base(&time, "RunEvent");
            event.insert("eventType".into(), json!(kind));
            let mut facets = Map::new();
            if kind != "START" {
                facets.insert(RUN_FACET.into(), run_facet(run));
                if kind != "COMPLETE" {
                    let message = run.message.clone().unwrap_or_else(|| failure(run));
                    let language = match fragment.language {
                        Language::Sql => "SQL",
                        Language::Python => "Python",
                    };
                    facets.insert(
                        "errorMessage".into(),
                        facet(
                            ERROR_MESSAGE,
                            json!({"message": message, "programmingLanguage": language}),
                        ),
                    );
                }
            }
            event.insert("run".into(), json!({"runId": id, "facets": facets}));
            event.insert("job".into(), job(fragment, t, export));
            let (mut ins, mut outs) = (inputs(t, export), outputs(t, export));
            if kind != "START" {
                add_rows(&mut ins, "inputFacets", "inputStatistics", INPUT_STATISTICS, run.rows_in);
                add_rows(
                    &mut outs,
                    "outputFacets",
                    "outputStatistics",
                    OUTPUT_STATISTICS,
                    run.rows_out,
                );
            }
            event.insert("inputs".into(), ins);
            event.insert("outputs".into(), outs);
            out.push(Value::Object(event));
        }
    }
    Events { events: out, unplaced, from_openlineage }
}

/// The events as JSON lines.
pub fn write(out: &mut impl Write, events: &[Value]) -> io::Result<()> {
    for event in events {
        serde_json::to_writer(&mut *out, event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A run's id: a UUID (version 5 layout) from the SHA-1 of the commit, the transformation and
/// what identifies the run (its source's own id, else its source, start and host), so the
/// same run always gets the same id.
pub fn run_id(commit: &str, transformation: &str, run: &RunRecord) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hash = sha1_smol::Sha1::new();
    for part in [
        "git-lineage run",
        commit,
        transformation,
        &run.source,
        run.run_id.as_deref().unwrap_or(&run.started_at),
        run.host.as_deref().unwrap_or(""),
        run.variant.as_deref().unwrap_or(""),
    ] {
        hash.update(part.as_bytes());
        hash.update(&[0]);
    }
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.digest().bytes()[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The web address of a repository from its remote URL (`https://host/org/repo.git`,
/// `git@host:org/repo.git`, `ssh://git@host/org/repo`), without credentials or `.git`.
pub fn web_url(remote: &str) -> Option<String> {
    let remote = remote.trim().trim_end_matches('/');
    let remote = remote.strip_suffix(".git").unwrap_or(remote);
    let (host, path) = if let Some(rest) =
        remote.strip_prefix("https://").or_else(|| remote.strip_prefix("http://"))
    {
        rest.split_once('/')?
    } else if let Some(rest) = remote.strip_prefix("ssh://") {
        let (host, path) = rest.split_once('/')?;
        (host.split(':').next().unwrap_or(host), path)
    } else if !remote.contains("://") {
        remote.split_once(':')?
    } else {
        return None;
    };
    let host = host.rsplit('@').next().unwrap_or(host);
    if host.is_empty() || path.is_empty() {
        return None;
    }
    Some(format!("https://{host}/{path}"))
}

/// The default job namespace of a repository: its web address without the scheme
/// (`host/org/repo`), else its folder's name.
pub fn default_namespace(remote: Option<&str>, folder: &str) -> String {
    remote
        .and_then(web_url)
        .map_or_else(|| folder.to_string(), |url| url.trim_start_matches("https://").to_string())
}

/// A dataset's OpenLineage namespace and name: `scheme://host` and the path for URLs, `file`
/// and the path for file paths, the dataset namespace and the name for tables.
pub fn dataset_id<'a>(name: &'a str, export: &'a Export) -> (String, &'a str) {
    if let Some((scheme, rest)) = name.split_once("://") {
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        return (format!("{scheme}://{host}"), if path.is_empty() { "/" } else { path });
    }
    let file_like = name.contains('/')
        || [".csv", ".parquet", ".json", ".jsonl", ".txt", ".xlsx", ".orc", ".avro"]
            .iter()
            .any(|ext| name.to_ascii_lowercase().ends_with(ext));
    if file_like {
        ("file".to_string(), name)
    } else {
        (export.dataset_namespace.to_string(), name)
    }
}

fn base(time: &str, kind: &str) -> Map<String, Value> {
    let mut event = Map::new();
    event.insert("eventTime".into(), json!(time));
    event.insert("producer".into(), json!(PRODUCER));
    event.insert("schemaURL".into(), json!(format!("{SPEC}#/$defs/{kind}")));
    event
}

fn facet(schema: &str, body: Value) -> Value {
    let mut facet = Map::new();
    facet.insert("_producer".into(), json!(PRODUCER));
    facet.insert("_schemaURL".into(), json!(schema));
    if let Value::Object(fields) = body {
        facet.extend(fields);
    }
    Value::Object(facet)
}

fn job_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Model => "MODEL",
        Kind::Task => "TASK",
        Kind::Function | Kind::Script => "JOB",
        _ => "QUERY",
    }
}

fn job(fragment: &Fragment, t: &Transformation, export: &Export) -> Value {
    let url = match export.repo_url {
        Some(repo) => format!("{repo}/blob/{}/{}", export.commit, fragment.path),
        None => format!("file://{}/{}", export.repo_path.trim_end_matches('/'), fragment.path),
    };
    let mut location = json!({
        "type": "git",
        "url": url,
        "path": fragment.path,
        "version": export.commit,
    });
    if let (Some(repo), Value::Object(fields)) = (export.repo_url, &mut location) {
        fields.insert("repoUrl".into(), json!(format!("{repo}.git")));
    }
    json!({
        "namespace": export.namespace,
        "name": t.id,
        "facets": {
            "jobType": facet(JOB_TYPE, json!({
                "processingType": "BATCH",
                "integration": "GIT_LINEAGE",
                "jobType": job_type(t.kind),
            })),
            "sourceCodeLocation": facet(SOURCE_CODE_LOCATION, location),
        },
    })
}

/// `dataset.column` split at its last dot; stars (columns no schema named) are not fields.
fn split_column(column: &str) -> Option<(&str, &str)> {
    let (dataset, field) = column.rsplit_once('.')?;
    (!dataset.is_empty() && !field.is_empty() && field != "*").then_some((dataset, field))
}

fn schema_facet(fields: &[&str]) -> Value {
    let fields: Vec<Value> = fields.iter().map(|f| json!({"name": f})).collect();
    facet(SCHEMA, json!({"fields": fields}))
}

fn dataset(name: &str, export: &Export, facets: Map<String, Value>) -> Value {
    let (namespace, name) = dataset_id(name, export);
    let mut d = json!({"namespace": namespace, "name": name});
    if !facets.is_empty()
        && let Value::Object(fields) = &mut d
    {
        fields.insert("facets".into(), Value::Object(facets));
    }
    d
}

fn inputs(t: &Transformation, export: &Export) -> Value {
    let mut read: BTreeMap<&str, Vec<&str>> =
        t.reads.iter().map(|r| (r.as_str(), Vec::new())).collect();
    let sources = t.columns.iter().map(|e| &e.source).chain(t.indirect.iter().map(|e| &e.source));
    for (dataset, field) in sources.filter_map(|c| split_column(c)) {
        if let Some(fields) = read.get_mut(dataset)
            && !fields.contains(&field)
        {
            fields.push(field);
        }
    }
    let inputs: Vec<Value> = read
        .into_iter()
        .map(|(name, mut fields)| {
            fields.sort_unstable();
            let mut facets = Map::new();
            if !fields.is_empty() {
                facets.insert("schema".into(), schema_facet(&fields));
            }
            dataset(name, export, facets)
        })
        .collect();
    Value::Array(inputs)
}

fn transformation(kind: &str, subtype: Option<&str>) -> Value {
    match subtype {
        Some(subtype) => json!({"type": kind, "subtype": subtype}),
        None => json!({"type": kind}),
    }
}

fn subtype(kind: IndirectKind) -> &'static str {
    match kind {
        IndirectKind::Filter => "FILTER",
        IndirectKind::Join => "JOIN",
        IndirectKind::GroupBy => "GROUP_BY",
        IndirectKind::Sort => "SORT",
        IndirectKind::Window => "WINDOW",
        IndirectKind::Conditional => "CONDITIONAL",
    }
}

/// Input fields keyed by (dataset, field), each with its transformations in order.
type InputFields<'a> = BTreeMap<(&'a str, &'a str), Vec<Value>>;

fn input_fields(fields: InputFields, export: &Export) -> Vec<Value> {
    fields
        .into_iter()
        .map(|((dataset, field), transformations)| {
            let (namespace, name) = dataset_id(dataset, export);
            json!({
                "namespace": namespace,
                "name": name,
                "field": field,
                "transformations": transformations,
            })
        })
        .collect()
}

fn outputs(t: &Transformation, export: &Export) -> Value {
    let outputs: Vec<Value> = t
        .writes
        .iter()
        .map(|write| {
            let mut by_field: BTreeMap<&str, InputFields> = BTreeMap::new();
            let mut whole: InputFields = BTreeMap::new();
            for edge in &t.columns {
                let (Some((d, field)), Some(source)) =
                    (split_column(&edge.target), split_column(&edge.source))
                else {
                    continue;
                };
                if d == write {
                    by_field
                        .entry(field)
                        .or_default()
                        .entry(source)
                        .or_default()
                        .push(transformation("DIRECT", None));
                }
            }
            for edge in &t.indirect {
                let Some(source) = split_column(&edge.source) else { continue };
                let record = transformation("INDIRECT", Some(subtype(edge.kind)));
                if edge.kind.is_column_level() {
                    if let Some((d, field)) = split_column(&edge.target)
                        && d == write
                    {
                        by_field.entry(field).or_default().entry(source).or_default().push(record);
                    }
                } else if edge.target == *write {
                    whole.entry(source).or_default().push(record);
                }
            }
            let mut columns: Vec<&str> = t.output_columns.iter().map(String::as_str).collect();
            if columns.is_empty() {
                columns = by_field.keys().copied().collect();
            }
            let mut facets = Map::new();
            if !columns.is_empty() {
                facets.insert("schema".into(), schema_facet(&columns));
            }
            if !by_field.is_empty() || !whole.is_empty() {
                let fields: Map<String, Value> = by_field
                    .into_iter()
                    .map(|(field, inputs)| {
                        (field.to_string(), json!({"inputFields": input_fields(inputs, export)}))
                    })
                    .collect();
                let mut body = json!({"fields": fields});
                if !whole.is_empty()
                    && let Value::Object(b) = &mut body
                {
                    b.insert("dataset".into(), Value::Array(input_fields(whole, export)));
                }
                facets.insert("columnLineage".into(), facet(COLUMN_LINEAGE, body));
            }
            dataset(write, export, facets)
        })
        .collect();
    Value::Array(outputs)
}

/// Rows go on a dataset's statistics facet only when the run had exactly one such dataset:
/// a total over several cannot be split among them.
fn add_rows(datasets: &mut Value, key: &str, name: &str, schema: &str, rows: Option<u64>) {
    let (Some(rows), Value::Array(list)) = (rows, datasets) else { return };
    if let [Value::Object(only)] = list.as_mut_slice() {
        only.insert(key.into(), json!({ name: facet(schema, json!({"rowCount": rows})) }));
    }
}

fn end_time(start: jiff::Timestamp, wall_ms: f64) -> String {
    // Run records keep times to the millisecond, as `format_timestamp` writes them.
    #[allow(clippy::cast_possible_truncation)]
    let micros = (wall_ms.max(0.0) * 1000.0).round() as i64;
    let end = start.checked_add(jiff::SignedDuration::from_micros(micros)).unwrap_or(start);
    crate::collect::record::format_timestamp(end)
}

fn failure(run: &RunRecord) -> String {
    match (run.exit_code, run.signal) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("stopped by signal {signal}"),
        (None, None) => format!("the run's status is {}", run.status),
    }
}

fn run_facet(run: &RunRecord) -> Value {
    let mut body = Map::new();
    let mut put = |key: &str, value: Value| {
        if !value.is_null() {
            body.insert(key.into(), value);
        }
    };
    put("source", json!(run.source));
    put("status", json!(run.status));
    put("startedAt", json!(run.started_at));
    put("wallMs", json!(run.wall_ms));
    put("userMs", json!(run.user_ms));
    put("sysMs", json!(run.sys_ms));
    put("maxRssBytes", json!(run.max_rss_bytes));
    put("readBytes", json!(run.read_bytes));
    put("writeBytes", json!(run.write_bytes));
    put("rowsIn", json!(run.rows_in));
    put("rowsOut", json!(run.rows_out));
    put("exitCode", json!(run.exit_code));
    put("signal", json!(run.signal));
    put("host", json!(run.host));
    put("program", json!(run.program));
    put("dirty", json!(run.dirty));
    put("variant", json!(run.variant));
    put("experiment", json!(run.experiment));
    put("sourceRunId", json!(run.run_id));
    put("sourceJob", json!(run.job));
    facet(&format!("{RUN_FACET_SCHEMA}#/$defs/GitLineageRunFacet"), Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};

    fn export() -> Export<'static> {
        Export {
            namespace: "example.com/team/etl",
            dataset_namespace: "warehouse",
            commit: "c0ffee",
            commit_time: "2026-01-01T00:00:00Z",
            repo_url: Some("https://example.com/team/etl"),
            repo_path: "/work/etl",
        }
    }

    #[test]
    fn remotes_give_web_addresses_and_namespaces() {
        for remote in [
            "https://example.com/team/etl.git",
            "git@example.com:team/etl.git",
            "ssh://git@example.com:22/team/etl",
            "https://user:secret@example.com/team/etl/",
        ] {
            assert_eq!(
                web_url(remote).as_deref(),
                Some("https://example.com/team/etl"),
                "{remote}"
            );
        }
        assert_eq!(web_url("/srv/git/etl.git"), None);
        assert_eq!(
            default_namespace(Some("git@example.com:team/etl.git"), "x"),
            "example.com/team/etl"
        );
        assert_eq!(default_namespace(None, "etl"), "etl");
    }

    #[test]
    fn datasets_are_placed_by_their_naming() {
        let e = export();
        assert_eq!(dataset_id("mart.orders", &e), ("warehouse".into(), "mart.orders"));
        assert_eq!(
            dataset_id("s3://bucket/raw/x.parquet", &e),
            ("s3://bucket".into(), "raw/x.parquet")
        );
        assert_eq!(dataset_id("data/orders.csv", &e), ("file".into(), "data/orders.csv"));
    }

    #[test]
    fn run_ids_are_uuids_that_depend_on_the_run() {
        let mut run = RunRecord::new("run", "c0ffee".into(), "2026-01-01T00:00:00Z".into(), 5.0);
        let a = run_id("c0ffee", "etl/x.sql#1", &run);
        assert_eq!(a, run_id("c0ffee", "etl/x.sql#1", &run));
        assert_eq!((a.len(), &a[14..15]), (36, "5"));
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        run.started_at = "2026-01-01T00:00:01Z".into();
        assert_ne!(a, run_id("c0ffee", "etl/x.sql#1", &run));
        assert_ne!(a, run_id("c0ffee", "etl/x.sql#2", &run));
    }

    #[test]
    fn column_lineage_direct_and_indirect() {
        let sql =
            "INSERT INTO mart.t SELECT a, CASE WHEN k > 0 THEN b END AS b FROM raw.s WHERE c = 1";
        let fragments = [extract("etl/x.sql", sql.as_bytes(), &Settings::default())];
        let Events { events, unplaced, .. } = events(&fragments, &[], &export());
        assert_eq!((events.len(), unplaced), (1, 0));
        let facet = &events[0]["outputs"][0]["facets"]["columnLineage"];
        assert_eq!(facet["fields"]["a"]["inputFields"][0]["field"], "a");
        assert_eq!(facet["fields"]["a"]["inputFields"][0]["transformations"][0]["type"], "DIRECT");
        let b: Vec<&Value> =
            facet["fields"]["b"]["inputFields"].as_array().unwrap().iter().collect();
        assert!(
            b.iter()
                .any(|f| f["field"] == "k" && f["transformations"][0]["subtype"] == "CONDITIONAL"),
            "{facet}"
        );
        assert_eq!(facet["dataset"][0]["field"], "c");
        assert_eq!(facet["dataset"][0]["transformations"][0]["subtype"], "FILTER");
        assert_eq!(events[0]["inputs"][0]["namespace"], "warehouse");
        assert_eq!(events[0]["job"]["name"], "etl/x.sql#1");
    }
}
