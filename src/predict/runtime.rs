//! ONNX Runtime, loaded at run time: the only file that imports `ort`.
//!
//! `ort` is built with `load-dynamic`, so the binary builds without ONNX Runtime and runs without
//! it as long as nothing is predicted; its own download of the library needs a host that many
//! machines cannot reach. The library comes from PyPI's onnxruntime wheel (`tests/setup-ort`).
//!
//! Every way `ort` could panic on a missing or wrong library is kept out of reach: the file is
//! checked first, the path handed over is absolute (a relative one makes `ort` look beside the
//! executable through an `expect`), loading goes through `ort::init_from` (which returns an
//! error, where `ort::init` with no library panics), nothing else of `ort` is called before a
//! load succeeded, and the load itself runs under `catch_unwind` as a last guard.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use super::Error;
use super::onnx::{INPUT, OUTPUT};

/// The ONNX Runtime release `tests/setup-ort` installs. `ort` is built for its API (31): older
/// libraries are refused at load.
pub const ORT_VERSION: &str = "1.31.1";

/// The environment variable naming the library, as `ort` itself reads it.
pub const LIBRARY_VARIABLE: &str = "ORT_DYLIB_PATH";

/// How to get the library, for error messages.
pub fn install_hint() -> String {
    format!(
        "run `tests/setup-ort` in the git-lineage checkout (it downloads PyPI's onnxruntime \
         {ORT_VERSION} wheel with pip and puts the library in .ort/), or set {LIBRARY_VARIABLE} \
         to a libonnxruntime of version 1.31 or later"
    )
}

/// Where the library is looked for: `$ORT_DYLIB_PATH` when set; else
/// `.ort/libonnxruntime.so.<ORT_VERSION>` in the current directory or the nearest directory
/// above it with such a file, up to the root of the git work tree (so that it is found from
/// any subdirectory of a checkout); else beside the executable or above it (a git-lineage
/// checkout's `target/release/git-lineage` finds the checkout's `.ort/` from any repository);
/// else the current directory's `.ort/` (which the error then names).
pub fn library_path() -> PathBuf {
    if let Some(path) = std::env::var_os(LIBRARY_VARIABLE).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let relative = Path::new(".ort").join(format!("libonnxruntime.so.{ORT_VERSION}"));
    let Ok(current) = std::env::current_dir() else {
        return relative;
    };
    for dir in current.ancestors() {
        let candidate = dir.join(&relative);
        if candidate.is_file() {
            return candidate;
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    let beside_executable = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors().skip(1).take(4).map(|dir| dir.join(&relative)).find(|c| c.is_file())
    });
    beside_executable.unwrap_or_else(|| current.join(relative))
}

/// The library this process loaded and its environment: a process can load ONNX Runtime once
/// (`ort` keeps it) and have one environment (ONNX Runtime refuses a second).
static LOADED: Mutex<Option<Runtime>> = Mutex::new(None);

/// Loads the library at `path` and makes the environment, once per process; later calls reuse
/// the library loaded first, whatever their path.
fn load_library(path: &Path) -> Result<Runtime, Error> {
    // A panic while holding the lock leaves the state consistent: it is set only on success.
    let mut loaded = LOADED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(runtime) = loaded.as_ref() {
        return Ok(runtime.clone());
    }
    if !path.is_file() {
        return Err(Error::RuntimeMissing { path: path.to_path_buf(), hint: install_hint() });
    }
    let absolute = std::fs::canonicalize(path).map_err(|err| Error::RuntimeLoad {
        path: path.to_path_buf(),
        message: err.to_string(),
        hint: install_hint(),
    })?;
    let failed = |message: String| Error::RuntimeLoad {
        path: absolute.clone(),
        message,
        hint: install_hint(),
    };
    match catch_unwind(AssertUnwindSafe(|| ort::init_from(&absolute).map(drop))) {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(failed(err.to_string())),
        Err(_) => return Err(failed("ort panicked while loading the library".to_string())),
    }
    // The library is loaded: from here on `ort` calls report errors instead of panicking.
    let environment = ort::init()
        .with_name("git-lineage")
        .with_telemetry(false)
        .build()
        .map_err(runtime_error("creating the environment"))?;
    let runtime = Runtime { environment, library: absolute };
    *loaded = Some(runtime.clone());
    Ok(runtime)
}

fn runtime_error(during: &'static str) -> impl Fn(ort::Error) -> Error {
    move |err| Error::Runtime { during, message: err.to_string() }
}

/// A loaded ONNX Runtime, ready to open models. Cheap to clone: clones share the environment.
#[derive(Clone)]
pub struct Runtime {
    environment: ort::environment::Environment,
    library: PathBuf,
}

impl Runtime {
    /// Loads the library from [`library_path`].
    pub fn load() -> Result<Runtime, Error> {
        Self::load_from(&library_path())
    }

    /// Loads the library at `path` (or reuses the one this process already loaded).
    pub fn load_from(path: &Path) -> Result<Runtime, Error> {
        load_library(path)
    }

    /// The library in use.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// Opens a model from the bytes of an `.onnx` file written by `onnx::to_bytes`: one float
    /// input `features` [N, F], one float output `variable` [N, 1].
    pub fn open(&self, model: &[u8]) -> Result<Predictor, Error> {
        // One thread: tree ensembles over a batch were twice as fast on one thread as on two
        // on a 2-core machine (bench/predict: 54 against 128 ms for 10,000 rows), and a
        // pre-commit hook should not take every core.
        let session = Session::builder(&self.environment)
            .map_err(runtime_error("creating a session"))?
            .with_intra_threads(1)
            .map_err(|e| runtime_error("setting the threads")(e.into()))?
            .commit_from_memory(model)
            .map_err(runtime_error("loading the model"))?;
        let n_features = session
            .inputs()
            .first()
            .filter(|input| input.name() == INPUT)
            .and_then(|input| input.dtype().tensor_shape())
            .and_then(|shape| shape.get(1).copied())
            .and_then(|columns| usize::try_from(columns).ok())
            .ok_or(Error::Runtime {
                during: "loading the model",
                message: format!("the model has no input `{INPUT}` of shape [N, F]"),
            })?;
        Ok(Predictor { session, n_features })
    }
}

/// A model opened in ONNX Runtime.
pub struct Predictor {
    session: Session,
    n_features: usize,
}

impl Predictor {
    /// Features per row the model takes.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Predicts rows of `n_features` values stored one after the other (NaN = missing). Values
    /// go in as `f32`, the model's input type.
    pub fn predict(&mut self, rows: &[f64]) -> Result<Vec<f32>, Error> {
        let n_features = self.n_features;
        if n_features == 0 || !rows.len().is_multiple_of(n_features) {
            return Err(Error::Shape { features: rows.len(), n_features });
        }
        let n = rows.len() / n_features;
        if n == 0 {
            return Ok(Vec::new());
        }
        #[expect(clippy::cast_possible_truncation, reason = "the model's input is float")]
        let values: Vec<f32> = rows.iter().map(|&x| x as f32).collect();
        let input = Tensor::from_array(([n, n_features], values))
            .map_err(runtime_error("making the input"))?;
        let outputs =
            self.session.run(ort::inputs![input]).map_err(runtime_error("running the model"))?;
        let output = outputs.get(OUTPUT).ok_or(Error::Runtime {
            during: "running the model",
            message: format!("no output `{OUTPUT}`"),
        })?;
        let (_, predictions) =
            output.try_extract_tensor::<f32>().map_err(runtime_error("reading the output"))?;
        if predictions.len() != n {
            return Err(Error::Runtime {
                during: "reading the output",
                message: format!("{} predictions for {n} rows", predictions.len()),
            });
        }
        Ok(predictions.to_vec())
    }

    /// As [`Predictor::predict`], widened to `f64`.
    pub fn predict_f64(&mut self, rows: &[f64]) -> Result<Vec<f64>, Error> {
        Ok(self.predict(rows)?.into_iter().map(f64::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::predict::gbdt::tests::{rows, target};
    use crate::predict::gbdt::{Params, train};
    use crate::predict::onnx;

    /// The runtime, or `None` after saying on stderr (uncaptured, so that it shows in a normal
    /// `cargo test` run) why the test is skipped.
    fn runtime_or_skip(test: &str) -> Option<Runtime> {
        match Runtime::load() {
            Ok(runtime) => Some(runtime),
            Err(err) => {
                let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {err}");
                None
            }
        }
    }

    #[test]
    fn onnx_runtime_agrees_with_the_rust_trees() {
        let Some(runtime) = runtime_or_skip("onnx_runtime_agrees_with_the_rust_trees") else {
            return;
        };
        let n_features = 5;
        let x = rows(3000, n_features, 0.1, 21);
        let y: Vec<f64> = x.chunks(n_features).map(target).collect();
        let validation: Vec<usize> = (2400..3000).collect();
        let model = train(&x, n_features, &y, &validation, &Params::default()).unwrap();
        assert!(model.trees.len() > 10);

        let mut predictor = runtime.open(&onnx::to_bytes(&model)).unwrap();
        assert_eq!(predictor.n_features(), n_features);
        // Fresh rows, with NaNs (10 %) and with values exactly on thresholds, the edge case of
        // the comparison.
        let mut test = rows(4000, n_features, 0.1, 22);
        let thresholds = model.trees.iter().flat_map(|t| &t.nodes).filter_map(|n| match n {
            crate::predict::gbdt::Node::Split { feature, threshold, .. } => {
                Some((*feature, *threshold))
            }
            crate::predict::gbdt::Node::Leaf { .. } => None,
        });
        for (row, (feature, threshold)) in test.chunks_mut(n_features).zip(thresholds) {
            row[feature] = f64::from(threshold);
        }
        let from_ort = predictor.predict_f64(&test).unwrap();
        let max_difference = test
            .chunks(n_features)
            .zip(&from_ort)
            .map(|(row, ort)| (model.predict(row) - ort).abs())
            .fold(0.0, f64::max);
        let _ = writeln!(
            std::io::stderr(),
            "ONNX Runtime vs Rust: max |difference| {max_difference:e} over {} rows",
            from_ort.len()
        );
        assert!(max_difference < 1e-5, "max difference {max_difference}");
    }

    #[test]
    fn a_model_without_trees_predicts_its_base() {
        let Some(runtime) = runtime_or_skip("a_model_without_trees_predicts_its_base") else {
            return;
        };
        let model = train(
            &[1.0, 2.0, 3.0],
            1,
            &[4.0, 4.0, 4.0],
            &[],
            &Params { max_trees: 0, ..Params::default() },
        )
        .unwrap();
        let mut predictor = runtime.open(&onnx::to_bytes(&model)).unwrap();
        assert_eq!(predictor.predict(&[0.0, f64::NAN]).unwrap(), vec![4.0, 4.0]);
        assert!(matches!(predictor.predict(&[]), Ok(v) if v.is_empty()));
    }

    #[test]
    fn bad_models_and_rows_are_errors() {
        let Some(runtime) = runtime_or_skip("bad_models_and_rows_are_errors") else {
            return;
        };
        assert!(matches!(runtime.open(b"not a model"), Err(Error::Runtime { .. })));
        let model = train(&[1.0, 2.0, 3.0, 4.0], 2, &[1.0, 2.0], &[], &Params::default()).unwrap();
        let mut predictor = runtime.open(&onnx::to_bytes(&model)).unwrap();
        assert!(matches!(predictor.predict(&[1.0, 2.0, 3.0]), Err(Error::Shape { .. })));
    }

    /// Set in the child process of `load_errors_in_a_fresh_process`.
    const CHILD: &str = "GIT_LINEAGE_TEST_ORT_CHILD";

    /// A process loads ONNX Runtime once, so load errors only show before the first load; the
    /// other tests here load it. This test runs `load_errors` again in a child process of the
    /// test binary, where nothing is loaded yet.
    #[test]
    fn load_errors_in_a_fresh_process() {
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "predict::runtime::tests::load_errors",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains("1 passed"), "{stdout}");
    }

    #[test]
    fn load_errors() {
        let Some(dir) = std::env::var_os(CHILD) else {
            return; // only meaningful in the child process (above)
        };
        let dir = Path::new(&dir);
        let missing = dir.join("missing/libonnxruntime.so.1.31.1");
        let err = Runtime::load_from(&missing).err().unwrap();
        assert!(matches!(err, Error::RuntimeMissing { .. }), "{err}");
        assert!(err.to_string().contains("tests/setup-ort"), "{err}");

        let fake = dir.join("libonnxruntime.so.1.31.1");
        std::fs::write(&fake, b"not a shared library").unwrap();
        let err = Runtime::load_from(&fake).err().unwrap();
        assert!(matches!(err, Error::RuntimeLoad { .. }), "{err}");
        assert!(err.to_string().contains("tests/setup-ort"), "{err}");

        // Failures leave nothing behind: the real library still loads afterwards.
        let real = std::env::current_dir().unwrap().join(".ort/libonnxruntime.so.1.31.1");
        if real.is_file() {
            let runtime = Runtime::load_from(&real).unwrap();
            assert_eq!(runtime.library(), std::fs::canonicalize(&real).unwrap());
        }
    }
}
