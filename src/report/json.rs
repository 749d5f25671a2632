//! JSON output: the `{"files": […]}` contract of `git-lineage extract`.

use std::io::Write;

use serde::Serialize;

use crate::extract::Fragment;

#[derive(Serialize)]
struct Files<'a> {
    files: &'a [Fragment],
}

pub fn write_files(out: &mut impl Write, fragments: &[Fragment]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Files { files: fragments })?;
    writeln!(out)
}
