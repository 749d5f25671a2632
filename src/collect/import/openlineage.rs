//! OpenLineage run events, one JSON object per line: a run is the START event and the
//! COMPLETE, FAIL or ABORT event that share its `run.runId`; its duration is the time between
//! them. Rows come from the input and output statistics facets; the code location from the
//! job's `sourceCodeLocation` facet.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{CommitHint, Imported, ImportedRun, Malformed, from_json, millis_between};
use crate::collect::record::{RunRecord, format_timestamp, parse_time};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_field_names)] // OpenLineage's own names
struct Event {
    #[serde(default)]
    event_type: Option<String>,
    event_time: String,
    /// Dataset and job events (static lineage) have no run.
    #[serde(default)]
    run: Option<Run>,
    job: Job,
    #[serde(default)]
    inputs: Vec<Dataset>,
    #[serde(default)]
    outputs: Vec<Dataset>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    run_id: String,
    #[serde(default)]
    facets: Value,
}

#[derive(Deserialize)]
struct Job {
    namespace: String,
    name: String,
    #[serde(default)]
    facets: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dataset {
    name: String,
    #[serde(default)]
    input_facets: Value,
    #[serde(default)]
    output_facets: Value,
}

/// What the events of one run say, gathered line by line.
#[derive(Default)]
struct RunEvents {
    start: Option<jiff::Timestamp>,
    end: Option<(jiff::Timestamp, &'static str)>,
    job: String,
    file: Option<String>,
    version: Option<String>,
    message: Option<String>,
    rows_in: Option<u64>,
    rows_out: Option<u64>,
    writes: Vec<String>,
}

const EVENT_TYPES: [&str; 6] = ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"];

/// The runs of a file of events. Every line is checked before any run is made.
pub fn read(file: &str, text: &str) -> Result<Imported, Vec<Malformed>> {
    let mut runs: BTreeMap<String, RunEvents> = BTreeMap::new();
    let mut imported = Imported::default();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = Some(n + 1);
        let event: Event = match from_json(file, line_no, line) {
            Ok(event) => event,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let Some(run) = &event.run else {
            imported.leave_out("events without a run (dataset or job events)");
            continue;
        };
        let Some(time) = parse_time(&event.event_time) else {
            problems.push(Malformed::new(file, line_no, "eventTime", "not an RFC 3339 time"));
            continue;
        };
        let kind = event.event_type.as_deref().unwrap_or("OTHER");
        if !EVENT_TYPES.contains(&kind) {
            let message = format!("`{kind}` is not one of {}", EVENT_TYPES.join(", "));
            problems.push(Malformed::new(file, line_no, "eventType", message));
            continue;
        }
        gather(runs.entry(run.run_id.clone()).or_default(), &event, run, kind, time);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for (run_id, events) in runs {
        match (events.start, events.end) {
            (Some(start), Some((end, status))) if end >= start => {
                imported.runs.push(make_run(run_id, events, start, end, status));
            }
            (Some(_), Some(_)) => imported.leave_out("runs that end before they start"),
            _ => imported.leave_out("runs without both a START and an end event"),
        }
    }
    Ok(imported)
}

fn gather(into: &mut RunEvents, event: &Event, run: &Run, kind: &str, time: jiff::Timestamp) {
    match kind {
        "START" => into.start = Some(into.start.map_or(time, |t| t.min(time))),
        "COMPLETE" => into.end = Some((time, "success")),
        "FAIL" => into.end = Some((time, "failed")),
        "ABORT" => into.end = Some((time, "killed")),
        _ => {}
    }
    into.job = format!("{}/{}", event.job.namespace, event.job.name);
    let location = event.job.facets.get("sourceCodeLocation");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    // The dbt integration names the model's file (relative to the dbt project) in its node
    // facet.
    let dbt_file = event.job.facets.pointer("/dbt_node/original_file_path");
    into.file =
        text(location.and_then(|l| l.get("path"))).or_else(|| text(dbt_file)).or(into.file.take());
    into.version = text(location.and_then(|l| l.get("version"))).or(into.version.take());
    into.message = text(run.facets.pointer("/errorMessage/message")).or(into.message.take());
    // Statistics may come on any event of the run; the last that carries them wins.
    let rows = |datasets: &[Dataset], pointers: &[&str], facets: fn(&Dataset) -> &Value| {
        let counts: Vec<u64> = datasets
            .iter()
            .filter_map(|d| pointers.iter().find_map(|p| facets(d).pointer(p)?.as_u64()))
            .collect();
        (!counts.is_empty()).then(|| counts.iter().sum())
    };
    let input_rows =
        rows(&event.inputs, &["/inputStatistics/rowCount", "/dataQualityMetrics/rowCount"], |d| {
            &d.input_facets
        });
    let output_rows = rows(&event.outputs, &["/outputStatistics/rowCount"], |d| &d.output_facets);
    into.rows_in = input_rows.or(into.rows_in);
    into.rows_out = output_rows.or(into.rows_out);
    for output in &event.outputs {
        if !into.writes.contains(&output.name) {
            into.writes.push(output.name.clone());
        }
    }
}

fn make_run(
    run_id: String,
    events: RunEvents,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
    status: &str,
) -> ImportedRun {
    let mut record = RunRecord::new(
        "openlineage",
        String::new(),
        format_timestamp(start),
        millis_between(start, end),
    );
    record.status = status.to_string();
    record.run_id = Some(run_id);
    record.job = Some(events.job);
    record.rows_in = events.rows_in;
    record.rows_out = events.rows_out;
    if status != "success" {
        record.message = events.message.map(|m| m.chars().take(500).collect());
    }
    ImportedRun {
        record,
        file: events.file,
        writes: events.writes,
        commit: events.version.map(CommitHint::Preferred),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, run: &str, time: &str, extra: &str) -> String {
        format!(
            r#"{{"eventType":"{kind}","eventTime":"{time}","run":{{"runId":"{run}"}},"job":{{"namespace":"etl","name":"load_orders","facets":{{"sourceCodeLocation":{{"type":"git","url":"https://example.com/r.git","path":"etl/load.sql","version":"0123abc"}}}}}},"producer":"https://example.com/p"{extra}}}"#
        )
    }

    #[test]
    fn start_and_end_events_make_a_run() {
        let text = [
            event("START", "r1", "2026-11-24T10:00:00Z", ""),
            event(
                "COMPLETE",
                "r1",
                "2026-11-24T12:00:01.5+02:00",
                r#","inputs":[{"namespace":"pg","name":"raw.orders","inputFacets":{"inputStatistics":{"rowCount":1000}}}],"outputs":[{"namespace":"pg","name":"mart.orders","outputFacets":{"outputStatistics":{"rowCount":900,"size":1}}}]"#,
            ),
            event("START", "r2", "2026-11-24T11:00:00Z", ""),
            event("FAIL", "r2", "2026-11-24T11:00:02Z", ""),
            event("START", "r3", "2026-11-24T11:00:00Z", ""),
            r#"{"eventTime":"2026-11-24T11:00:00Z","job":{"namespace":"etl","name":"static"},"producer":"p"}"#.to_string(),
        ]
        .join("\n");
        let imported = read("events.jsonl", &text).expect("valid");
        let [r1, r2] = imported.runs.as_slice() else { panic!("{:?}", imported.runs) };
        assert_eq!((r1.record.wall_ms, r1.record.status.as_str()), (1500.0, "success"));
        assert_eq!((r1.record.rows_in, r1.record.rows_out), (Some(1000), Some(900)));
        assert_eq!(r1.record.job.as_deref(), Some("etl/load_orders"));
        assert_eq!(r1.file.as_deref(), Some("etl/load.sql"));
        assert_eq!(r1.writes, ["mart.orders"]);
        assert_eq!(r1.commit, Some(CommitHint::Preferred("0123abc".into())));
        assert_eq!(r2.record.status, "failed");
        assert_eq!(imported.left_out.len(), 2, "{:?}", imported.left_out);
    }

    #[test]
    fn every_bad_line_is_named() {
        let text = [
            event("START", "r1", "2026-11-24T10:00:00Z", ""),
            event("COMPLETE", "r1", "ten past", ""),
            event("DONE", "r1", "2026-11-24T10:00:00Z", ""),
            r#"{"eventType":"START","eventTime":"2026-11-24T10:00:00Z","run":{},"job":{"namespace":"n","name":"j"}}"#.to_string(),
        ]
        .join("\n");
        let problems = read("events.jsonl", &text).expect_err("malformed");
        let named: Vec<(Option<usize>, &str)> =
            problems.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(named, [(Some(2), "eventTime"), (Some(3), "eventType"), (Some(4), "run")]);
        assert!(problems[2].message.contains("runId"), "{}", problems[2]);
    }
}
