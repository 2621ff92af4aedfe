// ---- siemc runtime: field access and value tests, the semantics of the
// ---- in-process matcher (src/backend/matcher) over a `serde_json::Value`.

/// A rule of the set: metadata and its match function.
pub struct RuleInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Option<&'static str>,
    pub matches: fn(&Value) -> bool,
}

/// The rules whose `matches` holds for `event` (the event is read once).
pub fn matching(event: &Value) -> Vec<&'static RuleInfo> {
    let ev = Event::new(event);
    RULES
        .iter()
        .zip(EVALS.iter())
        .filter(|(_, f)| f(&ev))
        .map(|(r, _)| r)
        .collect()
}

#[derive(Clone, Copy)]
enum Leaf<'a> {
    Str(&'a str),
    Num(&'a serde_json::Number),
    Bool(bool),
    Null,
    Object,
}

impl<'a> Leaf<'a> {
    fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            Leaf::Str(s) => Some(Cow::Borrowed(s)),
            Leaf::Num(n) => Some(Cow::Owned(n.to_string())),
            Leaf::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            Leaf::Null | Leaf::Object => None,
        }
    }
    fn num(&self) -> Option<f64> {
        match self {
            Leaf::Num(n) => n.to_string().parse().ok(),
            _ => None,
        }
    }
}

const NONE: u32 = u32::MAX;

/// One event: the leaves of every field the rules read, by field slot.
/// Nested objects and dotted keys give the same path; array elements share
/// their array's path.
struct Event<'a> {
    head: Vec<u32>,
    /// (leaf, from an array, next entry of the same field).
    vals: Vec<(Leaf<'a>, bool, u32)>,
    /// Every string of the event (for keyword searches).
    strings: Vec<&'a str>,
}

fn route(path: &str) -> Option<&'static [u32]> {
    let find = |p: &str| {
        ROUTES
            .binary_search_by(|(k, _)| (*k).cmp(p))
            .ok()
            .map(|i| ROUTES[i].1)
    };
    if let Some(ids) = find(path) {
        return Some(ids);
    }
    // evtx EventData / UserData keys: spaces removed, any depth under UserData.
    for pre in ["Event.EventData.", "Event.UserData."] {
        if let Some(rest) = path.strip_prefix(pre) {
            let last = rest
                .rsplit('.')
                .find(|s| !s.starts_with('#'))
                .unwrap_or(rest);
            let key: String = last.chars().filter(|c| *c != ' ').collect();
            return find(&key);
        }
    }
    None
}

impl<'a> Event<'a> {
    fn new(v: &'a Value) -> Event<'a> {
        let mut ev = Event {
            head: vec![NONE; FIELD_COUNT],
            vals: Vec::new(),
            strings: Vec::new(),
        };
        if let Value::Object(m) = v {
            let mut path = String::new();
            for (k, x) in m {
                path.clear();
                path.push_str(k);
                ev.walk(&mut path, x, false);
            }
        }
        ev
    }

    fn walk(&mut self, path: &mut String, v: &'a Value, in_array: bool) {
        let leaf = match v {
            Value::Object(m) => {
                self.emit(path, Leaf::Object, in_array);
                let base = path.len();
                for (k, x) in m {
                    path.truncate(base);
                    if base > 0 {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(path, x, false);
                }
                path.truncate(base);
                return;
            }
            Value::Array(items) => {
                for x in items {
                    self.walk(path, x, true);
                }
                return;
            }
            Value::String(s) => Leaf::Str(s),
            Value::Number(n) => Leaf::Num(n),
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Null => Leaf::Null,
        };
        self.emit(path, leaf, in_array);
    }

    fn emit(&mut self, path: &str, leaf: Leaf<'a>, in_array: bool) {
        if let (true, Leaf::Str(s)) = (WANT_STRINGS, leaf) {
            self.strings.push(s);
        }
        if let Some(ids) = route(path) {
            for &id in ids {
                let next = self.head[id as usize];
                self.head[id as usize] = self.vals.len() as u32;
                self.vals.push((leaf, in_array, next));
            }
        }
    }

    fn values(&self, id: u32) -> impl Iterator<Item = (Leaf<'a>, bool)> + '_ {
        let mut at = self.head[id as usize];
        std::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let (l, arr, next) = self.vals[at as usize];
            at = next;
            Some((l, arr))
        })
    }

    fn exists(&self, id: u32) -> bool {
        self.values(id).any(|(l, _)| !matches!(l, Leaf::Null))
    }
}

/// Lower-case for case-insensitive comparison.
fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

fn contains_ascii_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// A string test; needles are already folded when the test is insensitive.
enum S {
    Eq(&'static [&'static str], bool),
    Prefix(&'static str, bool),
    Suffix(&'static str, bool),
    /// Contains any needle (fold, fold non-ASCII values first).
    Contains(&'static [&'static str], bool, bool),
    Rx(usize),
    Always,
}

impl S {
    fn is_match(&self, v: &str) -> bool {
        match *self {
            S::Eq(set, f) => {
                let v = if f { Cow::Owned(fold(v)) } else { Cow::Borrowed(v) };
                set.binary_search(&&*v).is_ok()
            }
            S::Prefix(n, f) => {
                if !f {
                    v.starts_with(n)
                } else if n.is_ascii() {
                    v.len() >= n.len() && v.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes())
                } else {
                    fold(v).starts_with(n)
                }
            }
            S::Suffix(n, f) => {
                if !f {
                    v.ends_with(n)
                } else if n.is_ascii() {
                    v.len() >= n.len()
                        && v.as_bytes()[v.len() - n.len()..].eq_ignore_ascii_case(n.as_bytes())
                } else {
                    fold(v).ends_with(n)
                }
            }
            S::Contains(ns, f, fold_unicode) => {
                let v = if fold_unicode && !v.is_ascii() {
                    Cow::Owned(fold(v))
                } else {
                    Cow::Borrowed(v)
                };
                if f {
                    ns.iter().any(|n| contains_ascii_ci(&v, n))
                } else {
                    ns.iter().any(|n| v.contains(n))
                }
            }
            S::Rx(i) => rx(i).is_match(v),
            S::Always => true,
        }
    }
}

fn any_str(tests: &[S], v: &str) -> bool {
    tests.iter().any(|t| t.is_match(v))
}

/// A CIDR block (IPv4 blocks stored in the low 32 bits).
struct Cidr {
    v4: bool,
    addr: u128,
    bits: u8,
}

impl Cidr {
    fn contains(&self, ip: &str) -> bool {
        let Ok(ip) = ip.trim().parse::<std::net::IpAddr>() else {
            return false;
        };
        let (v4, a) = match ip {
            std::net::IpAddr::V4(a) => (true, u32::from(a) as u128),
            std::net::IpAddr::V6(a) if self.v4 => match a.to_ipv4_mapped() {
                Some(a) => (true, u32::from(a) as u128),
                None => return false,
            },
            std::net::IpAddr::V6(a) => (false, u128::from(a)),
        };
        if v4 != self.v4 {
            return false;
        }
        let width = if v4 { 32 } else { 128 };
        let shift = width - u32::from(self.bits);
        self.bits == 0 || (a >> shift) == (self.addr >> shift)
    }
}

/// A test of one value of a field.
enum V {
    Str(&'static [S]),
    /// A number (bits of the f64), its text, fold case.
    Num(f64, &'static str, bool),
    Bool(bool),
    Cidr(Cidr),
    FieldRef(u32, bool),
}

/// A field match: any (or, with `all`, every) test holds for some value.
struct M {
    field: u32,
    all: bool,
    scalar_only: bool,
    null_ok: bool,
    tests: &'static [V],
}

/// A keyword (free-text) search over every string of the event.
struct K {
    all: bool,
    tests: &'static [&'static [S]],
}

fn num_eq(l: &Leaf, value: f64, text: &str, f: bool) -> bool {
    match l {
        Leaf::Num(_) => l.num() == Some(value),
        Leaf::Str(s) => match s.trim().parse::<f64>() {
            Ok(x) => x == value,
            Err(_) if f => s.eq_ignore_ascii_case(text),
            Err(_) => *s == text,
        },
        _ => false,
    }
}

fn leaf_test(t: &V, l: &Leaf, ev: &Event) -> bool {
    match t {
        V::Str(tests) => l.text().is_some_and(|s| any_str(tests, &s)),
        V::Num(v, text, f) => num_eq(l, *v, text, *f),
        V::Bool(b) => match l {
            Leaf::Bool(x) => x == b,
            Leaf::Str(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        V::Cidr(c) => matches!(l, Leaf::Str(s) if c.contains(s)),
        V::FieldRef(other, f) => {
            let Some(a) = l.text() else { return false };
            ev.values(*other).any(|(o, _)| match o.text() {
                Some(b) if *f => fold(&a) == fold(&b),
                Some(b) => a == b,
                None => false,
            })
        }
    }
}

fn m(ev: &Event, m: &M) -> bool {
    let usable = |l: &Leaf, arr: bool| !(matches!(l, Leaf::Object) || m.scalar_only && arr);
    if m.null_ok {
        let mut any = false;
        for (l, _) in ev.values(m.field) {
            if !matches!(l, Leaf::Object) {
                any = true;
            }
            if matches!(l, Leaf::Null) {
                return true;
            }
        }
        if !any {
            return true;
        }
    }
    let test = |t: &V| {
        ev.values(m.field)
            .any(|(l, arr)| usable(&l, arr) && leaf_test(t, &l, ev))
    };
    if m.tests.is_empty() {
        false
    } else if m.all {
        m.tests.iter().all(test)
    } else {
        m.tests.iter().any(test)
    }
}

fn kw(ev: &Event, k: &K) -> bool {
    let test = |g: &&[S]| ev.strings.iter().any(|s| any_str(g, s));
    if k.all {
        k.tests.iter().all(test)
    } else {
        k.tests.iter().any(test)
    }
}

/// A computed value (for comparisons).
#[derive(Debug, Clone, PartialEq)]
enum Dyn {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Dyn>),
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl Dyn {
    fn truthy(&self) -> bool {
        match self {
            Dyn::Null => false,
            Dyn::Bool(b) => *b,
            Dyn::Num(n) => *n != 0.0,
            Dyn::Str(s) => !s.is_empty(),
            Dyn::List(l) => l.iter().any(Dyn::truthy),
        }
    }
    fn as_str(&self) -> Option<String> {
        match self {
            Dyn::Str(s) => Some(s.clone()),
            Dyn::Num(n) => Some(fmt_num(*n)),
            Dyn::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    fn as_num(&self) -> Option<f64> {
        match self {
            Dyn::Num(n) => Some(*n),
            Dyn::Str(s) => s.trim().parse().ok(),
            Dyn::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
    fn items(&self) -> Vec<&Dyn> {
        match self {
            Dyn::List(l) => l.iter().collect(),
            d => vec![d],
        }
    }
}

/// A Sigma rule of a Sysmon category only meets Sysmon events of its event
/// IDs (as `siemc match` routes them); any other event may match.
fn sysmon_admits(ev: &Event, channel: u32, provider: u32, event_id: u32, ids: &[u32]) -> bool {
    let is = |id: u32, want: &str| {
        matches!(field(ev, id), Dyn::Str(s) if s.eq_ignore_ascii_case(want))
    };
    if !(is(channel, "Microsoft-Windows-Sysmon/Operational") || is(provider, "Microsoft-Windows-Sysmon")) {
        return true;
    }
    match field(ev, event_id).as_num() {
        Some(n) => ids.iter().any(|i| *i as f64 == n),
        None => true,
    }
}

fn field(ev: &Event, id: u32) -> Dyn {
    let mut vals: Vec<Dyn> = ev
        .values(id)
        .filter(|(l, _)| !matches!(l, Leaf::Object))
        .map(|(l, _)| match l {
            Leaf::Str(s) => Dyn::Str(s.to_string()),
            Leaf::Num(n) => {
                let t = n.to_string();
                t.parse().map(Dyn::Num).unwrap_or(Dyn::Str(t))
            }
            Leaf::Bool(b) => Dyn::Bool(b),
            Leaf::Null | Leaf::Object => Dyn::Null,
        })
        .collect();
    match vals.len() {
        0 => Dyn::Null,
        1 => vals.pop().unwrap_or(Dyn::Null),
        _ => {
            vals.reverse();
            Dyn::List(vals)
        }
    }
}

/// Arithmetic: `+ - * / %`, or `c` for concatenation.
fn arith(op: char, l: &Dyn, r: &Dyn) -> Dyn {
    if op == 'c' {
        return match (l.as_str(), r.as_str()) {
            (Some(a), Some(b)) => Dyn::Str(a + &b),
            _ => Dyn::Null,
        };
    }
    let (Some(a), Some(b)) = (l.as_num(), r.as_num()) else {
        return Dyn::Null;
    };
    Dyn::Num(match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        '/' if b != 0.0 => a / b,
        '%' if b != 0.0 => a % b,
        _ => return Dyn::Null,
    })
}

fn neg(d: &Dyn) -> Dyn {
    d.as_num().map_or(Dyn::Null, |n| Dyn::Num(-n))
}

/// Comparison operators: `=`, `!`, `<`, `l` (<=), `>`, `g` (>=).
fn cmp_one(l: &Dyn, op: char, r: &Dyn, ci: bool) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (l, r) {
        (Dyn::Null, Dyn::Null) => Some(Ordering::Equal),
        (Dyn::Null, _) | (_, Dyn::Null) => return false,
        (Dyn::Bool(a), Dyn::Bool(b)) => Some(a.cmp(b)),
        (Dyn::Num(a), b) | (b, Dyn::Num(a)) if b.as_num().is_some() => {
            let b = b.as_num().unwrap_or(f64::NAN);
            if matches!(l, Dyn::Num(_)) {
                a.partial_cmp(&b)
            } else {
                b.partial_cmp(a)
            }
        }
        _ => match (l.as_str(), r.as_str()) {
            (Some(a), Some(b)) if ci => Some(fold(&a).cmp(&fold(&b))),
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
    };
    let Some(o) = ord else { return false };
    match op {
        '=' => o == Ordering::Equal,
        '!' => o != Ordering::Equal,
        '<' => o == Ordering::Less,
        'l' => o != Ordering::Greater,
        '>' => o == Ordering::Greater,
        _ => o != Ordering::Less,
    }
}

fn compare(l: &Dyn, op: char, r: &Dyn, ci: bool) -> bool {
    let (li, ri) = (l.items(), r.items());
    if op == '!' {
        if matches!(l, Dyn::Null) || matches!(r, Dyn::Null) {
            return false;
        }
        return !li.iter().any(|a| ri.iter().any(|b| cmp_one(a, '=', b, ci)));
    }
    li.iter().any(|a| ri.iter().any(|b| cmp_one(a, op, b, ci)))
}

fn rx(i: usize) -> &'static Regex {
    RX[i].get_or_init(|| {
        regex::RegexBuilder::new(RX_SRC[i])
            .size_limit(1 << 24)
            .build()
            .expect("siemc checked this regex when it generated the module")
    })
}
