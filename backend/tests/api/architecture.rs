//! The structural invariants of ARCHITECTURE.md, checked on the source text: no import cycle between
//! the top-level modules of `backend/src`, only `storage` speaks SQL, only `ws` knows WebSocket frames,
//! wire formats only in `wallboard-shared` (and neither of frontend and backend depends on the other),
//! and nothing cites a path outside the repository.
//!
//! Every check is a pure function over in-memory files, so the synthetic tests at the end of this file
//! exercise the lexer, the path expansion and the cycle finder even when the real tree is clean.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Name of the crate root (`src/lib.rs`) in the module graph: modules that use its items depend on it.
const ROOT: &str = "(crate root)";

/// A Rust file by its path relative to `backend/src` (always with `/`), and its text.
struct SourceFile {
    path: String,
    text: String,
}

impl SourceFile {
    fn new(path: &str, text: &str) -> Self {
        Self { path: path.to_owned(), text: text.to_owned() }
    }

    /// Module path of the file: `api/mod.rs` is `[api]`, `api/statistics.rs` is `[api, statistics]`,
    /// `lib.rs` is `[]` (the crate root).
    fn module_path(&self) -> Vec<String> {
        let stem = self.path.strip_suffix(".rs").unwrap_or(&self.path);
        let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        parts
    }

    /// The top-level module the file belongs to (`src/X.rs` or `src/X/…`), or [`ROOT`] for `lib.rs`.
    fn top(&self) -> String {
        self.module_path().into_iter().next().unwrap_or_else(|| ROOT.to_owned())
    }
}

/// A place in `backend/src`, printed the way editors and terminals link it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    path: String,
    line: usize,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backend/src/{}:{}", self.path, self.line)
    }
}

// ---------------------------------------------------------------------------------------------
// Lexing: just enough Rust to skip comments and literals, so that a doc comment or a string that
// mentions `crate::ws` or `rusqlite` is not taken for code.

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Identifiers (`$crate` is one), `::`, and single punctuation characters, with their 1-based line.
/// Comments vanish; every string, char, byte or raw string literal becomes one `"…"` token.
fn tokens(code: &str) -> Vec<Token> {
    let c: Vec<char> = code.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    // Skips a quoted literal starting at `i` (which holds the opening quote); returns the index after it.
    let skip_quoted = |mut i: usize, quote: char, line: &mut usize| {
        i += 1;
        while i < c.len() && c[i] != quote {
            if c[i] == '\\' {
                i += 1;
            }
            if at(i) == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        let start_line = line;
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&c, i) {
            line += c[i..end].iter().filter(|&&x| x == '\n').count();
            i = end;
            out.push(Token { text: "\"…\"".into(), line: start_line });
        } else if ch == '"' || ((ch == 'b' || ch == 'c') && at(i + 1) == '"') {
            let open = if ch == '"' { i } else { i + 1 };
            i = skip_quoted(open, '"', &mut line);
            out.push(Token { text: "\"…\"".into(), line: start_line });
        } else if ch == 'b' && at(i + 1) == '\'' {
            i = skip_quoted(i + 1, '\'', &mut line);
            out.push(Token { text: "\"…\"".into(), line: start_line });
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // An escaped char literal: `'\''`, `'\n'`, `'\u{1F600}'`.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(Token { text: "\"…\"".into(), line });
            } else if at(i + 2) == '\'' {
                i += 3;
                out.push(Token { text: "\"…\"".into(), line });
            } else {
                // A lifetime or a loop label: the identifier that follows is lexed on its own.
                out.push(Token { text: "'".into(), line });
                i += 1;
            }
        } else if ch == 'r' && at(i + 1) == '#' && is_ident_start(at(i + 2)) {
            // A raw identifier `r#type` is the identifier `type`.
            let s = i + 2;
            i = s;
            while i < c.len() && is_ident_continue(c[i]) {
                i += 1;
            }
            out.push(Token { text: c[s..i].iter().collect(), line });
        } else if ch == '$' && c[i + 1..].starts_with(&['c', 'r', 'a', 't', 'e']) && !is_ident_continue(at(i + 6)) {
            i += 6;
            out.push(Token { text: "$crate".into(), line });
        } else if is_ident_start(ch) || ch.is_ascii_digit() {
            let s = i;
            while i < c.len() && is_ident_continue(c[i]) {
                i += 1;
            }
            out.push(Token { text: c[s..i].iter().collect(), line });
        } else if ch == ':' && at(i + 1) == ':' {
            i += 2;
            out.push(Token { text: "::".into(), line });
        } else {
            i += 1;
            out.push(Token { text: ch.to_string(), line });
        }
    }
    out
}

/// When a raw string (`r"…"`, `r#"…"#`, `br"…"`, `cr#"…"#`) starts at `i`, the index just after it.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    // A raw string prefix must not be the tail of an identifier (`bar"…"` is not valid Rust anyway).
    if i > 0 && is_ident_continue(c[i - 1]) {
        return None;
    }
    let mut j = i;
    if matches!(c.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = c[j..].iter().take_while(|&&x| x == '#').count();
    j += hashes;
    if c.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < c.len() {
        if c[j] == '"' && c[j + 1..].iter().take(hashes).filter(|&&x| x == '#').count() == hashes {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

fn is_ident(t: &Token) -> bool {
    t.text == "$crate" || t.text.chars().next().is_some_and(is_ident_start)
}

// ---------------------------------------------------------------------------------------------
// Paths: every `a::b::c` in code and every leaf of a `use` tree, grouped forms expanded.

/// One expanded path, the line of its last segment, and how many inline `mod x { … }` blocks
/// enclose it (they shift what `super::` means).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathRef {
    segments: Vec<String>,
    line: usize,
    inline_depth: usize,
}

/// Expands the path (or `use` tree) starting at `i`; returns its leaves and the index after it.
fn expand(t: &[Token], mut i: usize) -> (Vec<(Vec<String>, usize)>, usize) {
    let mut prefix: Vec<String> = Vec::new();
    let mut line = t.get(i).map_or(0, |x| x.line);
    loop {
        match t.get(i) {
            Some(tok) if is_ident(tok) => {
                prefix.push(tok.text.clone());
                line = tok.line;
                i += 1;
            }
            Some(tok) if tok.text == "*" => {
                prefix.push("*".into());
                return (vec![(prefix, tok.line)], i + 1);
            }
            Some(tok) if tok.text == "{" && !prefix.is_empty() => {
                i += 1;
                let mut out = Vec::new();
                while let Some(tok) = t.get(i) {
                    match tok.text.as_str() {
                        "}" => {
                            i += 1;
                            break;
                        }
                        "," => i += 1,
                        _ => {
                            let (leaves, next) = expand(t, i);
                            // `as alias` renames the leaf, not its path.
                            i = if t.get(next).is_some_and(|x| x.text == "as") { next + 2 } else { next.max(i + 1) };
                            out.extend(leaves.into_iter().map(|(mut tail, l)| {
                                let mut full = prefix.clone();
                                full.append(&mut tail);
                                (full, l)
                            }));
                        }
                    }
                }
                if out.is_empty() {
                    out.push((prefix, line));
                }
                return (out, i);
            }
            _ => return (vec![(prefix, line)], i),
        }
        // A turbofish (`::<T>`) ends the path as far as modules are concerned.
        if t.get(i).is_some_and(|x| x.text == "::") && t.get(i + 1).is_some_and(|x| x.text != "<") {
            i += 1;
        } else {
            return (vec![(prefix, line)], i);
        }
    }
}

/// Every path of two segments or more in the file, with the inline module depth where it appears.
fn paths(t: &[Token]) -> Vec<PathRef> {
    let mut out = Vec::new();
    // One entry per open brace: whether it opened an inline `mod name { … }`.
    let mut braces: Vec<bool> = Vec::new();
    let mut pending_mod = false;
    let mut i = 0;
    while i < t.len() {
        let tok = &t[i];
        match tok.text.as_str() {
            "{" => {
                braces.push(pending_mod);
                pending_mod = false;
                i += 1;
                continue;
            }
            "}" => {
                braces.pop();
                i += 1;
                continue;
            }
            "mod" if t.get(i + 2).is_some_and(|x| x.text == "{") => pending_mod = true,
            _ => {}
        }
        let starts_path =
            is_ident(tok) && (i == 0 || t[i - 1].text != "::") && t.get(i + 1).is_some_and(|x| x.text == "::");
        if starts_path {
            let inline_depth = braces.iter().filter(|&&m| m).count();
            let (leaves, next) = expand(t, i);
            out.extend(leaves.into_iter().filter(|(s, _)| s.len() >= 2).map(|(segments, line)| PathRef {
                segments,
                line,
                inline_depth,
            }));
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// a. No import cycle between top-level modules.

/// Edges between top-level modules: from, to, and the lines that mention the target.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<Site>>>;

/// The module graph of `files`: X → Y when a file of X names `crate::Y…` (or `$crate::Y…`, or a
/// `super::` chain that climbs out of X to the crate root and then names Y). A `crate::` path whose
/// first segment is not a module names an item of `lib.rs`: an edge to [`ROOT`]. `main.rs` is the
/// binary's own crate and not part of the graph.
fn module_graph(files: &[SourceFile]) -> Graph {
    let modules: BTreeSet<String> =
        files.iter().filter(|f| f.path != "main.rs" && f.path != "lib.rs").map(SourceFile::top).collect();
    let mut graph: Graph = modules.iter().map(|m| (m.clone(), BTreeMap::new())).collect();
    for file in files.iter().filter(|f| f.path != "main.rs") {
        let from = file.top();
        let depth = file.module_path().len();
        for p in paths(&tokens(&file.text)) {
            let s = &p.segments;
            let named = match s[0].as_str() {
                "crate" | "$crate" => Some(&s[1]),
                "super" => {
                    let climbs = s.iter().take_while(|x| *x == "super").count();
                    // Fewer climbs stay inside the file's own top-level module; more is not valid Rust.
                    if climbs == depth + p.inline_depth { s.get(climbs) } else { None }
                }
                // In the crate root, `api::x` names the module `api` itself.
                first if depth == 0 && p.inline_depth == 0 && modules.contains(first) => Some(&s[0]),
                _ => None,
            };
            let Some(named) = named else { continue };
            let to = if modules.contains(named) { named.clone() } else { ROOT.to_owned() };
            if to != from {
                let site = Site { path: file.path.clone(), line: p.line };
                graph.entry(from.clone()).or_default().entry(to).or_default().insert(site);
            }
        }
    }
    graph
}

/// Strongly connected components of more than one module (Tarjan), each sorted, in name order.
fn cyclic_components(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            let graph = self.graph;
            for w in graph.get(v).into_iter().flat_map(BTreeMap::keys) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out.sort();
    t.out
}

/// Elementary cycles inside one component, each starting at its smallest module, at most `cap`.
fn elementary_cycles(graph: &Graph, component: &[String], cap: usize) -> Vec<Vec<String>> {
    fn walk(
        graph: &Graph,
        inside: &BTreeSet<&str>,
        start: &str,
        path: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
        cap: usize,
    ) {
        let Some(last) = path.last().cloned() else { return };
        for next in graph.get(&last).into_iter().flat_map(BTreeMap::keys) {
            if out.len() >= cap {
                return;
            }
            if next == start {
                out.push(path.clone());
            } else if inside.contains(next.as_str()) && next.as_str() > start && !path.contains(next) {
                path.push(next.clone());
                walk(graph, inside, start, path, out, cap);
                path.pop();
            }
        }
    }
    let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for start in component {
        walk(graph, &inside, start, &mut vec![start.clone()], &mut out, cap);
    }
    out
}

/// One message per cycle cluster: its elementary cycles and every edge inside it with its sites.
fn cycle_violations(files: &[SourceFile]) -> Vec<String> {
    let graph = module_graph(files);
    cyclic_components(&graph)
        .into_iter()
        .map(|component| {
            let mut msg = format!("import cycle between top-level modules {{{}}}:", component.join(", "));
            for cycle in elementary_cycles(&graph, &component, 20) {
                msg += &format!("\n  cycle: {} -> {}", cycle.join(" -> "), cycle[0]);
            }
            for from in &component {
                for (to, sites) in graph[from].iter().filter(|(to, _)| component.contains(to)) {
                    let mut shown: Vec<String> = sites.iter().take(4).map(Site::to_string).collect();
                    if sites.len() > 4 {
                        shown.push(format!("and {} more", sites.len() - 4));
                    }
                    msg += &format!("\n  {from} -> {to}: {}", shown.join(", "));
                }
            }
            msg
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// b. Only `storage` speaks SQL.

/// The database clients: SQLite's and PostgreSQL's.
const SQL_CRATES: &[&str] = &["rusqlite", "postgres", "tokio_postgres"];

fn sql_violations(files: &[SourceFile]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for file in files.iter().filter(|f| f.top() != "storage") {
        for tok in tokens(&file.text).iter().filter(|t| SQL_CRATES.contains(&t.text.as_str())) {
            let site = Site { path: file.path.clone(), line: tok.line };
            out.insert(format!("{site}: `{}` outside src/storage/ (only storage speaks SQL)", tok.text));
        }
    }
    out.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// c. Only `ws` knows WebSocket frames.

/// Files outside `ws` allowed to speak frames: the load tool's WebSocket *client*, which opens
/// thousands of connections against a server; its frames are the client's side of the protocol,
/// which the server's `ws` module cannot serve (it reads them itself, with tungstenite's
/// handshake keys).
const FRAME_CLIENTS: &[&str] = &["loadtest/client.rs"];

fn frame_violations(files: &[SourceFile]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for file in files.iter().filter(|f| f.top() != "ws" && !FRAME_CLIENTS.contains(&f.path.as_str())) {
        for p in paths(&tokens(&file.text)) {
            let s: Vec<&str> = p.segments.iter().map(String::as_str).collect();
            let site = Site { path: file.path.clone(), line: p.line };
            match s.as_slice() {
                ["tokio_tungstenite" | "tungstenite", ..] => {
                    out.insert(format!("{site}: `{}` outside src/ws/ (only ws knows WebSocket frames)", s.join("::")));
                }
                // The HTTP half of the upgrade (auth, permits, 503) belongs to the API.
                ["axum", "extract", "ws", "WebSocketUpgrade"] if file.top() == "api" => {}
                ["axum", "extract", "ws", ..] => {
                    out.insert(format!("{site}: `{}` outside src/ws/ (only ws knows WebSocket frames; src/api/ may use `WebSocketUpgrade`)", s.join("::")));
                }
                _ => {}
            }
        }
    }
    out.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// d. Wire formats only in `wallboard-shared`.

/// Modules whose response bodies and frames must be `wallboard-shared`'s types, not their own.
const WIRE_FREE: &[&str] = &["api", "ws"];

fn wire_violations(files: &[SourceFile]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files.iter().filter(|f| WIRE_FREE.contains(&f.top().as_str())) {
        let t = tokens(&file.text);
        for (i, tok) in t.iter().enumerate() {
            if tok.text != "derive" || t.get(i + 1).is_none_or(|x| x.text != "(") {
                continue;
            }
            let mut depth = 0;
            for x in &t[i + 1..] {
                match x.text.as_str() {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    "Serialize" => {
                        let site = Site { path: file.path.clone(), line: tok.line };
                        out.push(format!(
                            "{site}: derives `Serialize` in src/{}/ (wire formats live in wallboard-shared)",
                            file.top()
                        ));
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        }
    }
    out
}

/// Dependency tables of a manifest: `[dependencies]` and friends, also under `[target.'…']`.
fn dependency_tables(manifest: &toml::Table) -> Vec<(String, toml::Table)> {
    const KINDS: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];
    let mut scopes: Vec<(String, &toml::Table)> = vec![(String::new(), manifest)];
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        scopes.extend(targets.iter().filter_map(|(cfg, t)| Some((format!("target.{cfg}."), t.as_table()?))));
    }
    let mut out = Vec::new();
    for (prefix, scope) in scopes {
        for kind in KINDS {
            if let Some(t) = scope.get(*kind).and_then(toml::Value::as_table) {
                out.push((format!("{prefix}{kind}"), t.clone()));
            }
        }
    }
    out
}

/// `manifests` are `(path relative to the repo, text)` of the frontend, backend and shared manifests.
/// Each crate names the packages (and path folders) it must not depend on.
fn dependency_violations(manifests: &[(&str, &str)]) -> Vec<String> {
    let forbidden: &[(&str, &[&str])] = &[
        ("frontend/Cargo.toml", &["wallboard", "backend"]),
        ("backend/Cargo.toml", &["wallboard-frontend", "frontend"]),
        ("shared/Cargo.toml", &["wallboard", "backend", "wallboard-frontend", "frontend"]),
    ];
    let mut out = Vec::new();
    for (path, text) in manifests {
        let Some((_, banned)) = forbidden.iter().find(|(p, _)| p == path) else { continue };
        let manifest: toml::Table = match text.parse() {
            Ok(m) => m,
            Err(e) => {
                out.push(format!("{path}: not a valid manifest: {e}"));
                continue;
            }
        };
        for (table, deps) in dependency_tables(&manifest) {
            for (key, spec) in &deps {
                let package = spec.get("package").and_then(toml::Value::as_str).unwrap_or(key);
                let folder = spec
                    .get("path")
                    .and_then(toml::Value::as_str)
                    .map(|p| p.trim_end_matches('/').rsplit('/').next().unwrap_or(p));
                if banned.contains(&package) || folder.is_some_and(|f| banned.contains(&f)) {
                    let line = text.lines().position(|l| l.trim_start().starts_with(key.as_str())).map_or(0, |n| n + 1);
                    out.push(format!("{path}:{line}: [{table}] `{key}`: frontend and backend never depend on each other (they share wallboard-shared)"));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// f. No async code takes the engine's write lock.

/// Files whose async code may take the engine's write lock: a mirror's discovery, whose engine
/// holds no events (its snapshot is written in milliseconds).
const ASYNC_ENGINE_WRITERS: &[&str] = &["source/mirror.rs"];

/// `engine.write()` in the body of an `async fn` or an `async` block or closure. A runtime
/// thread waiting there waits for every reader, and std's lock then makes each new reader wait
/// behind it: while the writer thread holds a read lock to write the engine snapshot (seconds
/// for a busy center), REST and the hub would stop. The writer thread is the engine's writer.
fn async_engine_write_violations(files: &[SourceFile]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files.iter().filter(|f| !ASYNC_ENGINE_WRITERS.contains(&f.path.as_str())) {
        let t = tokens(&file.text);
        let text = |i: usize| t.get(i).map_or("", |x: &Token| x.text.as_str());
        // The brace depths at which async bodies opened, innermost last.
        let (mut depth, mut bodies, mut after_async) = (0usize, Vec::<usize>::new(), false);
        for (i, token) in t.iter().enumerate() {
            match token.text.as_str() {
                "async" => after_async = true,
                // A body-less `async fn` of a trait.
                ";" => after_async = false,
                "{" => {
                    depth += 1;
                    if std::mem::take(&mut after_async) {
                        bodies.push(depth);
                    }
                }
                "}" => {
                    if bodies.last() == Some(&depth) {
                        bodies.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                "engine"
                    if !bodies.is_empty() && text(i + 1) == "." && text(i + 2) == "write" && text(i + 3) == "(" =>
                {
                    let site = Site { path: file.path.clone(), line: t[i].line };
                    out.push(format!(
                        "{site}: the engine's write lock taken in async code (ask the writer thread: `Ingest`)"
                    ));
                }
                _ => {}
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// e. Nothing outside the repository is read or cited.

/// The folder beside the repository that once held the contract; spelled in two parts so that this
/// file does not match the search it performs.
fn outside_folder() -> String {
    ["..", "shared"].join("/")
}

/// `files` are `(path relative to the repo, text)`.
fn outside_citations(files: &[(String, String)]) -> Vec<String> {
    let needle = outside_folder();
    let mut out = Vec::new();
    for (path, text) in files {
        for (n, line) in text.lines().enumerate() {
            if line.contains(&needle) {
                out.push(format!(
                    "{path}:{}: cites `{needle}`, outside the repository (the contract is docs/design.md)",
                    n + 1
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading the real tree.

fn backend_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo_root() -> &'static Path {
    backend_dir().parent().expect("the backend lives in the repository")
}

/// Text files under `dir`, relative to `base`, skipping build output, dependencies, `.git` and the
/// runtime data folder; binary files (not UTF-8) and symbolic links are skipped.
fn walk(base: &Path, dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<(String, String)>) {
    const SKIP: &[&str] = &["target", "node_modules", ".git", "dist"];
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let path = entry.path();
        let name = entry.file_name();
        let kind = entry.file_type().unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
        let rel = path.strip_prefix(base).expect("under base").to_string_lossy().replace('\\', "/");
        if SKIP.contains(&name.to_string_lossy().as_ref()) || rel == "data" || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            walk(base, &path, keep, out);
        } else if keep(&path)
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push((rel, text));
        }
    }
}

fn backend_sources() -> Vec<SourceFile> {
    let src = backend_dir().join("src");
    let mut files = Vec::new();
    walk(&src, &src, &|p| p.extension().is_some_and(|e| e == "rs"), &mut files);
    files.sort();
    assert!(files.iter().any(|(p, _)| p == "lib.rs"), "backend/src/lib.rs not found under {}", src.display());
    files.into_iter().map(|(path, text)| SourceFile { path, text }).collect()
}

fn assert_none(what: &str, violations: &[String]) {
    assert!(violations.is_empty(), "{what}: {} violation(s)\n{}\n", violations.len(), violations.join("\n"));
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let files = backend_sources();
    // Guard against a vacuous pass: the graph must see the modules we know exist.
    let graph = module_graph(&files);
    for m in ["api", "ws", "storage", "engine"] {
        assert!(graph.contains_key(m), "module `{m}` not found in backend/src");
    }
    assert_none("no module imports a module that imports it", &cycle_violations(&files));
}

#[test]
fn only_storage_speaks_sql() {
    assert_none("only storage speaks SQL", &sql_violations(&backend_sources()));
}

#[test]
fn only_ws_knows_websocket_frames() {
    assert_none("only ws knows WebSocket frames", &frame_violations(&backend_sources()));
}

#[test]
fn wire_formats_only_in_shared() {
    let mut violations = wire_violations(&backend_sources());
    let manifests: Vec<(&str, String)> = ["frontend/Cargo.toml", "backend/Cargo.toml", "shared/Cargo.toml"]
        .into_iter()
        .map(|p| (p, std::fs::read_to_string(repo_root().join(p)).unwrap_or_else(|e| panic!("cannot read {p}: {e}"))))
        .collect();
    let refs: Vec<(&str, &str)> = manifests.iter().map(|(p, t)| (*p, t.as_str())).collect();
    violations.extend(dependency_violations(&refs));
    assert_none("wire formats only in wallboard-shared", &violations);
}

#[test]
fn no_async_code_takes_the_engines_write_lock() {
    assert_none("the writer thread is the engine's writer", &async_engine_write_violations(&backend_sources()));
}

#[test]
fn nothing_outside_the_repository_is_cited() {
    let root = repo_root();
    let mut files = Vec::new();
    walk(root, root, &|_| true, &mut files);
    assert!(files.iter().any(|(p, _)| p == "docs/design.md"), "docs/design.md not found under {}", root.display());
    assert_none("the repository stands alone", &outside_citations(&files));
}

// ---------------------------------------------------------------------------------------------
// The checks on synthetic inputs, so their logic is tested whatever the state of the real tree.

fn files(list: &[(&str, &str)]) -> Vec<SourceFile> {
    list.iter().map(|(p, t)| SourceFile::new(p, t)).collect()
}

fn edges(graph: &Graph) -> Vec<String> {
    graph.iter().flat_map(|(from, tos)| tos.keys().map(move |to| format!("{from}->{to}"))).collect()
}

#[test]
fn lexer_skips_comments_and_literals_and_keeps_lines() {
    let code = "// crate::a\n/* crate::b /* nested */ crate::c */ let s = \"crate::d \\\" crate::e\";\n\
                let r = r#\"crate::f \"# ;let q = '\"'; let e = '\\''; fn f<'a>(x: &'a str) {}\nuse crate::g;";
    let t = tokens(code);
    let found: Vec<PathRef> = paths(&t);
    assert_eq!(found, vec![PathRef { segments: vec!["crate".into(), "g".into()], line: 4, inline_depth: 0 }]);
    assert!(t.iter().any(|x| x.text == "a" && x.line == 3), "the lifetime's name is an identifier on line 3");
}

#[test]
fn grouped_use_and_code_paths_are_expanded() {
    let code = "use crate::{api::{self, AppState}, ws::Hub as H,\n storage};\nfn f() { crate::engine::Engine::new::<u8>(); $crate::clock::now() }";
    let got: Vec<(String, usize)> = paths(&tokens(code)).into_iter().map(|p| (p.segments.join("::"), p.line)).collect();
    let want = [
        ("crate::api::self", 1),
        ("crate::api::AppState", 1),
        ("crate::ws::Hub", 1),
        ("crate::storage", 2),
        ("crate::engine::Engine::new", 3),
        ("$crate::clock::now", 3),
    ];
    assert_eq!(got, want.iter().map(|(p, l)| ((*p).to_owned(), *l)).collect::<Vec<_>>());
}

#[test]
fn super_counts_only_when_it_climbs_out_of_the_module() {
    let graph = module_graph(&files(&[
        ("lib.rs", "pub mod api; pub mod ws; pub mod cache; pub mod clock;\nuse crate::api::AppState;"),
        ("api/mod.rs", "mod statistics;"),
        (
            "api/statistics.rs",
            "use super::error::E;\nuse super::super::ws::Hub;\nmod tests { use super::*; use super::super::super::clock::Clock; }",
        ),
        (
            "cache.rs",
            "use super::clock::Clock;\n#[cfg(test)]\nmod tests { use super::*; use super::super::Credentials; }",
        ),
        ("ws/mod.rs", "pub(crate) fn f() {}"),
        ("clock.rs", ""),
    ]));
    assert_eq!(edges(&graph), ["(crate root)->api", "api->clock", "api->ws", "cache->(crate root)", "cache->clock"]);
    assert_eq!(graph["api"]["ws"], BTreeSet::from([Site { path: "api/statistics.rs".into(), line: 2 }]));
}

#[test]
fn every_cycle_is_reported_with_its_sites() {
    let tree = files(&[
        ("a.rs", "use crate::b::X;"),
        ("b/mod.rs", "mod inner;"),
        ("b/inner.rs", "fn f() { crate::a::g() }"),
        ("c.rs", "use crate::d;"),
        ("d.rs", "use crate::{e::E, a};"),
        ("e.rs", "use crate::c::C;\nuse crate::d::D;"),
        ("f.rs", "use crate::a;"),
    ]);
    let v = cycle_violations(&tree);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v[0].starts_with("import cycle between top-level modules {a, b}:"), "{}", v[0]);
    assert!(v[0].contains("cycle: a -> b -> a"), "{}", v[0]);
    assert!(v[0].contains("b -> a: backend/src/b/inner.rs:1"), "{}", v[0]);
    assert!(v[1].starts_with("import cycle between top-level modules {c, d, e}:"), "{}", v[1]);
    assert!(v[1].contains("cycle: c -> d -> e -> c") && v[1].contains("cycle: d -> e -> d"), "{}", v[1]);
    assert!(v[1].contains("e -> d: backend/src/e.rs:2"), "{}", v[1]);
    assert!(v.iter().all(|m| !m.contains("f.rs") && !m.contains("-> f")), "f is on no cycle: {v:#?}");

    let acyclic = files(&[("a.rs", "use crate::b;"), ("b.rs", "use crate::c;"), ("c.rs", "// use crate::a;")]);
    assert!(cycle_violations(&acyclic).is_empty());
}

#[test]
fn sql_is_flagged_outside_storage_only() {
    let v = sql_violations(&files(&[
        ("storage/sqlite.rs", "use rusqlite::Connection;"),
        ("storage/postgres.rs", "use postgres::Client;"),
        ("api/mod.rs", "// rusqlite in a comment is fine\nfn f(c: &rusqlite::Connection) {}"),
        ("node.rs", "// a \"postgres\" string is fine\nfn f(c: &mut postgres::Client, url: &str) {}"),
    ]));
    assert_eq!(
        v,
        [
            "backend/src/api/mod.rs:2: `rusqlite` outside src/storage/ (only storage speaks SQL)",
            "backend/src/node.rs:2: `postgres` outside src/storage/ (only storage speaks SQL)",
        ]
    );
}

#[test]
fn frames_are_flagged_outside_ws_except_the_upgrade_and_the_load_tool() {
    let v = frame_violations(&files(&[
        ("ws/session.rs", "use axum::extract::ws::{CloseFrame, Message, WebSocket};"),
        ("api/ws.rs", "use axum::extract::{State, ws::{Message,\n WebSocketUpgrade}};"),
        ("api/mod.rs", "use axum::extract::ws::WebSocketUpgrade;"),
        ("source/mod.rs", "use axum::extract::ws::WebSocketUpgrade;"),
        ("cache.rs", "fn f() { let _ = tokio_tungstenite::connect_async; }"),
        ("loadtest/client.rs", "use tokio_tungstenite::tungstenite::handshake::derive_accept_key;"),
        ("loadtest/mod.rs", "fn f() { let _ = tokio_tungstenite::connect_async; }"),
    ]));
    assert_eq!(v.len(), 4, "{v:#?}");
    assert!(v[0].starts_with("backend/src/api/ws.rs:1: `axum::extract::ws::Message`"), "{}", v[0]);
    assert!(v[1].starts_with("backend/src/cache.rs:1: `tokio_tungstenite::connect_async`"), "{}", v[1]);
    assert!(v[2].starts_with("backend/src/loadtest/mod.rs:1: `tokio_tungstenite::connect_async`"), "{}", v[2]);
    assert!(v[3].starts_with("backend/src/source/mod.rs:1: `axum::extract::ws::WebSocketUpgrade`"), "{}", v[3]);
}

#[test]
fn serialize_derives_are_flagged_in_api_and_ws_only() {
    let v = wire_violations(&files(&[
        (
            "api/statistics.rs",
            "#[derive(Debug, Deserialize)]\nstruct Q;\n#[derive(Clone,\n serde::Serialize)]\nstruct Body;\nimpl<T: serde::Serialize> X for T {}",
        ),
        ("ws/hub.rs", "#[cfg_attr(test, derive(Serialize))]\nstruct Frame;"),
        ("engine/mod.rs", "#[derive(Serialize)]\nstruct Snapshot;"),
    ]));
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v[0].starts_with("backend/src/api/statistics.rs:3: derives `Serialize`"), "{}", v[0]);
    assert!(v[1].starts_with("backend/src/ws/hub.rs:1: derives `Serialize`"), "{}", v[1]);
}

#[test]
fn frontend_and_backend_never_depend_on_each_other() {
    let frontend = "[package]\nname = \"wallboard-frontend\"\n[dependencies]\nwallboard-shared.workspace = true\nserver = { package = \"wallboard\", path = \"../backend\" }\n";
    let backend = "[package]\nname = \"wallboard\"\n[dependencies]\nwallboard-shared.workspace = true\n[target.'cfg(unix)'.dev-dependencies]\nwallboard-frontend.workspace = true\n";
    let v = dependency_violations(&[("frontend/Cargo.toml", frontend), ("backend/Cargo.toml", backend)]);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v[0].starts_with("frontend/Cargo.toml:5: [dependencies] `server`"), "{}", v[0]);
    assert!(
        v[1].starts_with("backend/Cargo.toml:6: [target.cfg(unix).dev-dependencies] `wallboard-frontend`"),
        "{}",
        v[1]
    );
    let clean = "[dependencies]\nwallboard-shared.workspace = true\nleptos = \"0.8\"\n";
    assert!(dependency_violations(&[("frontend/Cargo.toml", clean)]).is_empty());
}

#[test]
fn citations_outside_the_repository_are_flagged() {
    let outside = outside_folder();
    let tree = vec![
        ("README.md".to_owned(), format!("see docs/design.md\nsee `{outside}/DESIGN.md`\n")),
        (
            "backend/tests/api/x.rs".to_owned(),
            format!("concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../{outside}/reference/x.json\")"),
        ),
        ("docs/design.md".to_owned(), "the `shared/` crate".to_owned()),
    ];
    let v = outside_citations(&tree);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v[0].starts_with("README.md:2: cites"), "{}", v[0]);
    assert!(v[1].starts_with("backend/tests/api/x.rs:1: cites"), "{}", v[1]);
}

#[test]
fn the_async_write_lock_check_sees_async_bodies_only() {
    let code = "trait T { async fn later(&self); }\n\
                fn sync(engine: &E) { engine.write().unwrap().maintain(1); }\n\
                async fn handler(engine: E) { let n = 1; { engine.write().unwrap(); } }\n\
                fn spawns() { tokio::spawn(async move { self.engine.write(); }); }\n\
                fn after() { engine.write(); engine.read(); } // engine.write() in a comment\n";
    let found = async_engine_write_violations(&files(&[("x.rs", code), ("source/mirror.rs", code)]));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("backend/src/x.rs:3:") && found[1].starts_with("backend/src/x.rs:4:"), "{found:?}");
}
