//! The code's shape, as ARCHITECTURE.md states it: no function of `src/` longer than 80 lines
//! (a longer one is split into named steps) and no source file longer than 500. Unit-test modules
//! (`#[cfg(test)]`, inline or in their own file) and `#[test]` functions are exempt.
//!
//! The module tree is walked from `src/lib.rs` and `src/main.rs` by following `mod` declarations
//! (so a test module's file is recognised by the `#[cfg(test)]` on its declaration), and each
//! file is parsed with `syn`: a function's length runs from its `fn` keyword to its closing brace,
//! blank and comment lines included.

use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// The longest a function may be, in lines.
const MAX_FN_LINES: usize = 80;
/// The longest a source file may be, in lines.
const MAX_FILE_LINES: usize = 500;

/// One function: where it is, its name (`Type::method` for a method) and its length in lines.
struct FnSpan {
    file: PathBuf,
    line: usize,
    name: String,
    lines: usize,
}

/// Every non-test file reachable from the crate roots, with its functions.
#[derive(Default)]
struct Tree {
    files: Vec<(PathBuf, usize)>,
    fns: Vec<FnSpan>,
}

/// Whether an attribute list takes the item out of normal builds: `#[test]`, `#[cfg(test)]` or a
/// `cfg(all(test, …))`.
fn test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if a.path().is_ident("test") {
            return true;
        }
        if !a.path().is_ident("cfg") {
            return false;
        }
        let Ok(list) = a.meta.require_list() else {
            return false;
        };
        let tokens = list.tokens.to_string();
        tokens == "test" || tokens.starts_with("all (test") || tokens.starts_with("all(test")
    })
}

/// The `#[path = "…"]` of a `mod` declaration, if any.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Visits one file: records its functions and the files of the modules it declares.
struct FileVisitor<'a> {
    file: &'a Path,
    /// Directory in which `mod x;` looks for `x.rs` / `x/mod.rs` (a stack for inline modules).
    dirs: Vec<PathBuf>,
    /// Directory of the file itself (`#[path]` is relative to it).
    file_dir: PathBuf,
    /// Name of the `impl` or `trait` being visited, for method names.
    owner: Option<String>,
    fns: Vec<FnSpan>,
    children: Vec<PathBuf>,
}

impl FileVisitor<'_> {
    fn record(&mut self, name: &syn::Ident, fn_token: &syn::token::Fn, block: &syn::Block) {
        let start = fn_token.span().start().line;
        let end = block.brace_token.span.close().end().line;
        let name = match &self.owner {
            Some(owner) => format!("{owner}::{name}"),
            None => name.to_string(),
        };
        self.fns.push(FnSpan {
            file: self.file.to_path_buf(),
            line: start,
            name,
            lines: end + 1 - start,
        });
    }
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if test_only(&m.attrs) {
            return;
        }
        let dir = self.dirs.last().expect("a module directory").clone();
        match &m.content {
            None => {
                let file = match path_attr(&m.attrs) {
                    Some(p) => self.file_dir.join(p),
                    None => {
                        let flat = dir.join(format!("{}.rs", m.ident));
                        if flat.exists() {
                            flat
                        } else {
                            dir.join(m.ident.to_string()).join("mod.rs")
                        }
                    }
                };
                self.children.push(file);
            }
            Some(_) => {
                self.dirs.push(dir.join(m.ident.to_string()));
                visit::visit_item_mod(self, m);
                self.dirs.pop();
            }
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if test_only(&f.attrs) {
            return;
        }
        self.record(&f.sig.ident, &f.sig.fn_token, &f.block);
        let owner = self.owner.take();
        visit::visit_item_fn(self, f);
        self.owner = owner;
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if test_only(&i.attrs) {
            return;
        }
        let name = match &*i.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let owner = std::mem::replace(&mut self.owner, name);
        visit::visit_item_impl(self, i);
        self.owner = owner;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if test_only(&f.attrs) {
            return;
        }
        self.record(&f.sig.ident, &f.sig.fn_token, &f.block);
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        if test_only(&t.attrs) {
            return;
        }
        let owner = self.owner.replace(t.ident.to_string());
        visit::visit_item_trait(self, t);
        self.owner = owner;
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.record(&f.sig.ident, &f.sig.fn_token, block);
        }
        visit::visit_trait_item_fn(self, f);
    }
}

/// Parses `file` and, recursively, the files of the (non-test) modules it declares.
fn walk(file: &Path, tree: &mut Tree) {
    let text =
        std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
    let file_dir = file.parent().expect("a parent directory").to_path_buf();
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let mod_dir = if matches!(stem, "mod" | "lib" | "main") {
        file_dir.clone()
    } else {
        file_dir.join(stem)
    };
    let mut v = FileVisitor {
        file,
        dirs: vec![mod_dir],
        file_dir,
        owner: None,
        fns: Vec::new(),
        children: Vec::new(),
    };
    v.visit_file(&ast);
    tree.files.push((file.to_path_buf(), text.lines().count()));
    tree.fns.append(&mut v.fns);
    for child in v.children {
        walk(&child, tree);
    }
}

fn tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut tree = Tree::default();
    walk(&src.join("lib.rs"), &mut tree);
    walk(&src.join("main.rs"), &mut tree);
    tree
}

fn relative(p: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

#[test]
fn the_walk_reaches_the_whole_library_and_binary() {
    let tree = tree();
    let names: Vec<String> = tree.files.iter().map(|(p, _)| relative(p)).collect();
    for expected in ["src/model/finding.rs", "src/proto/mod.rs", "src/cli/mod.rs"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not reached: {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.ends_with("/tests.rs")),
        "unit-test files are exempt: {names:?}"
    );
    assert!(
        tree.fns.iter().any(|f| f.name == "main"),
        "src/main.rs's main not measured"
    );
}

#[test]
fn no_function_in_src_is_longer_than_80_lines() {
    let mut long: Vec<FnSpan> = tree()
        .fns
        .into_iter()
        .filter(|f| f.lines > MAX_FN_LINES)
        .collect();
    long.sort_by_key(|f| std::cmp::Reverse(f.lines));
    let list: Vec<String> = long
        .iter()
        .map(|f| format!("{:4} {}:{} {}", f.lines, relative(&f.file), f.line, f.name))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them into named steps):\n{}",
        list.join("\n")
    );
}

#[test]
fn no_source_file_in_src_is_longer_than_500_lines() {
    let mut long: Vec<(PathBuf, usize)> = tree()
        .files
        .into_iter()
        .filter(|(_, n)| *n > MAX_FILE_LINES)
        .collect();
    long.sort_by_key(|f| std::cmp::Reverse(f.1));
    let list: Vec<String> = long
        .iter()
        .map(|(p, n)| format!("{n:4} {}", relative(p)))
        .collect();
    assert!(
        long.is_empty(),
        "source files over {MAX_FILE_LINES} lines (split them along a seam):\n{}",
        list.join("\n")
    );
}
