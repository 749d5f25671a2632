//! The `git-lineage` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // SAFETY: first thing in main, on the only thread, before any tree-sitter object exists.
    #[allow(unsafe_code)]
    unsafe {
        tree_sitter_alloc::install();
    }
    let args = git_lineage::cli::Args::parse();
    match git_lineage::cli::run(args) {
        Ok(status) => status.into(),
        Err(error) => git_lineage::cli::report_error(&error),
    }
}

/// Lineage extraction allocates many small AST nodes and strings; mimalloc makes that about a
/// fifth faster than the system allocator (bench: `git-lineage debug throughput`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// tree-sitter's C library allocates through mimalloc too: its parse trees, stacks and query
/// states went through the system's malloc, a tenth of the time of a Python file
/// (`bench/python`, counted with callgrind).
#[allow(unsafe_code)]
mod tree_sitter_alloc {
    use std::ffi::c_void;

    use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_zalloc};

    /// tree-sitter expects what its own defaults do: no null for a non-zero size (they exit
    /// when the system allocator fails).
    fn checked(pointer: *mut c_void, size: usize) -> *mut c_void {
        if pointer.is_null() && size != 0 {
            eprintln!("git-lineage: out of memory ({size} bytes for tree-sitter)");
            std::process::abort();
        }
        pointer
    }

    unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        // SAFETY: mi_malloc takes any size.
        checked(unsafe { mi_malloc(size) }, size)
    }

    unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        let Some(total) = count.checked_mul(size) else {
            return checked(std::ptr::null_mut(), usize::MAX);
        };
        // SAFETY: mi_zalloc takes any size and zeroes it, as calloc does.
        checked(unsafe { mi_zalloc(total) }, total)
    }

    unsafe extern "C" fn realloc(pointer: *mut c_void, size: usize) -> *mut c_void {
        // SAFETY: tree-sitter reallocates only what these functions allocated.
        checked(unsafe { mi_realloc(pointer, size) }, size)
    }

    unsafe extern "C" fn free(pointer: *mut c_void) {
        // SAFETY: as for realloc.
        unsafe { mi_free(pointer) }
    }

    /// # Safety
    ///
    /// Call before any tree-sitter object exists, on one thread (`tree_sitter::set_allocator`).
    pub unsafe fn install() {
        let allocator = tree_sitter::Allocator { malloc, calloc, realloc, free };
        // SAFETY: one allocator family; mimalloc aligns as malloc does; the caller keeps the rest.
        unsafe { tree_sitter::set_allocator(Some(allocator)) }
    }
}
