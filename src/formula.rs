//! Formulas of the inputs, typed by a person: `x1^2 + x2 > 0.5` (a condition: a class label)
//! or `sin(3*x1)` (a number: a regression target or an input feature).
//!
//! A small language of our own rather than a general expression crate: every number is an
//! f64 (`1/2` is 0.5, not integer division), conditions and numbers are told apart when the
//! formula is read (so `x1 + (x2 > 0)` is refused with a reason instead of silently adding
//! 1.0), and every error names the column where it happens, which is what a person fixing a
//! typo in a text field needs.
//!
//! Grammar, loosest first: `||`/`or`, `&&`/`and`, one comparison (`<` `<=` `>` `>=` `==`
//! `!=`) which `!`/`not` may negate, `+ -`, `* / %`, unary `-` `+`, `^` (or `**`, right-associative, binding
//! tighter than a unary minus on its left: `-x1^2` is `-(x1^2)`), then numbers (`2`, `0.5`,
//! `1e-3`), variables `x1 … xN` (`x` is `x1`), constants `pi`, `tau`, `e`, function calls and
//! parentheses.

use std::fmt;

/// Functions a formula may call, with their number of arguments (`None`: two or more).
const FUNCTIONS: &[(&str, Option<usize>)] = &[
    ("sin", Some(1)),
    ("cos", Some(1)),
    ("tan", Some(1)),
    ("asin", Some(1)),
    ("acos", Some(1)),
    ("atan", Some(1)),
    ("sinh", Some(1)),
    ("cosh", Some(1)),
    ("tanh", Some(1)),
    ("exp", Some(1)),
    ("ln", Some(1)),
    ("log", Some(1)),
    ("log2", Some(1)),
    ("log10", Some(1)),
    ("sqrt", Some(1)),
    ("abs", Some(1)),
    ("sign", Some(1)),
    ("floor", Some(1)),
    ("ceil", Some(1)),
    ("round", Some(1)),
    ("relu", Some(1)),
    ("sigmoid", Some(1)),
    ("atan2", Some(2)),
    ("pow", Some(2)),
    ("hypot", Some(2)),
    ("min", None),
    ("max", None),
];

/// Most variables a formula may name (`x1 … x64`).
pub const MAX_VARIABLES: usize = 64;

/// Longest formula text accepted: a field typed by a person, not a program.
pub const MAX_LEN: usize = 4096;

/// Deepest nesting of parentheses and operators (keeps the recursive reader off the stack's end).
const MAX_DEPTH: usize = 200;

/// What went wrong, and where: `column` counts characters from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormulaError {
    /// Where: characters from the start of the text, counting from 1.
    pub column: usize,
    /// What is wrong there, and how to write it instead when that is clear.
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FormulaError {}

/// A formula that has been read and checked; evaluate it with [`Formula::eval`].
#[derive(Clone, Debug)]
pub struct Formula {
    text: String,
    root: Node,
    condition: bool,
    variables: usize,
}

impl PartialEq for Formula {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Formula {}

impl Formula {
    /// Read `text`, whose variables may be `x1 … x{inputs}`.
    pub fn parse(text: &str, inputs: usize) -> Result<Formula, FormulaError> {
        if text.chars().count() > MAX_LEN {
            return Err(FormulaError {
                column: MAX_LEN + 1,
                message: format!("the formula is longer than {MAX_LEN} characters"),
            });
        }
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            inputs,
            depth: 0,
            end: text.chars().count() + 1,
            variables: 0,
        };
        if p.peek().is_none() {
            return Err(FormulaError {
                column: 1,
                message: "the formula is empty".into(),
            });
        }
        let (root, kind) = p.expr()?;
        if let Some(t) = p.peek() {
            let message = match t.tok {
                Tok::RParen => "this ')' closes no '('".to_string(),
                _ => format!(
                    "expected an operator before {} (write * to multiply)",
                    t.tok.describe()
                ),
            };
            return Err(FormulaError {
                column: t.column,
                message,
            });
        }
        Ok(Formula {
            text: text.to_string(),
            root,
            condition: kind == Kind::Condition,
            variables: p.variables,
        })
    }

    /// The text as typed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the formula is a condition (a comparison, or conditions joined by
    /// `&&`/`||`/`!`): its value is 1 where it holds and 0 elsewhere.
    pub fn is_condition(&self) -> bool {
        self.condition
    }

    /// The highest variable index used (0 when the formula names no variable).
    pub fn variables(&self) -> usize {
        self.variables
    }

    /// The value at `x` (a condition gives 1.0 or 0.0). `x` must have at least
    /// [`Formula::variables`] entries.
    pub fn eval(&self, x: &[f64]) -> f64 {
        self.root.eval(x)
    }

    /// The formula built in another language (an export's code or graph): `var(i)` gives input
    /// i (0-based), `num(v)` a constant, and `call(name, args)` every operation — the
    /// functions of this language, and `add`, `sub`, `mul`, `div`, `neg`, `pow` (for `^`) and
    /// `fmod` (for `%`: the remainder with the sign of the dividend). None for a condition.
    pub fn render(
        &self,
        var: &dyn Fn(usize) -> String,
        num: &dyn Fn(f64) -> String,
        call: &dyn Fn(&str, &[String]) -> String,
    ) -> Option<String> {
        fn go(
            n: &Node,
            var: &dyn Fn(usize) -> String,
            num: &dyn Fn(f64) -> String,
            call: &dyn Fn(&str, &[String]) -> String,
        ) -> String {
            match n {
                Node::Num(v) => num(*v),
                Node::Var(i) => var(*i),
                Node::Neg(a) => call("neg", &[go(a, var, num, call)]),
                Node::Bin(op, a, b) => {
                    let args = [go(a, var, num, call), go(b, var, num, call)];
                    match op {
                        BinOp::Add => call("add", &args),
                        BinOp::Sub => call("sub", &args),
                        BinOp::Mul => call("mul", &args),
                        BinOp::Div => call("div", &args),
                        BinOp::Rem => call("fmod", &args),
                        BinOp::Pow => call("pow", &args),
                        // Conditions never sit inside a number (the parser refuses them).
                        _ => unreachable!("a condition inside a number"),
                    }
                }
                Node::Not(_) => unreachable!("a condition inside a number"),
                Node::Call(name, args) => {
                    let args: Vec<String> = args.iter().map(|a| go(a, var, num, call)).collect();
                    call(name, &args)
                }
            }
        }
        (!self.condition).then(|| go(&self.root, var, num, call))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Number,
    Condition,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Clone, Debug)]
enum Node {
    Num(f64),
    Var(usize),
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Call(&'static str, Vec<Node>),
}

fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

impl Node {
    fn eval(&self, x: &[f64]) -> f64 {
        match self {
            Node::Num(v) => *v,
            Node::Var(i) => x[*i],
            Node::Neg(a) => -a.eval(x),
            Node::Not(a) => truth(a.eval(x) == 0.0),
            Node::Bin(op, a, b) => {
                let (a, b) = (a.eval(x), b.eval(x));
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Rem => a % b,
                    BinOp::Pow => a.powf(b),
                    BinOp::Lt => truth(a < b),
                    BinOp::Le => truth(a <= b),
                    BinOp::Gt => truth(a > b),
                    BinOp::Ge => truth(a >= b),
                    BinOp::Eq => truth(a == b),
                    BinOp::Ne => truth(a != b),
                    BinOp::And => truth(a != 0.0 && b != 0.0),
                    BinOp::Or => truth(a != 0.0 || b != 0.0),
                }
            }
            Node::Call(name, args) => {
                let a = |i: usize| args[i].eval(x);
                match *name {
                    "sin" => a(0).sin(),
                    "cos" => a(0).cos(),
                    "tan" => a(0).tan(),
                    "asin" => a(0).asin(),
                    "acos" => a(0).acos(),
                    "atan" => a(0).atan(),
                    "sinh" => a(0).sinh(),
                    "cosh" => a(0).cosh(),
                    "tanh" => a(0).tanh(),
                    "exp" => a(0).exp(),
                    "ln" | "log" => a(0).ln(),
                    "log2" => a(0).log2(),
                    "log10" => a(0).log10(),
                    "sqrt" => a(0).sqrt(),
                    "abs" => a(0).abs(),
                    "sign" => {
                        let v = a(0);
                        if v > 0.0 {
                            1.0
                        } else if v < 0.0 {
                            -1.0
                        } else {
                            v
                        }
                    }
                    "floor" => a(0).floor(),
                    "ceil" => a(0).ceil(),
                    "round" => a(0).round(),
                    "relu" => a(0).max(0.0),
                    "sigmoid" => 1.0 / (1.0 + (-a(0)).exp()),
                    "atan2" => a(0).atan2(a(1)),
                    "pow" => a(0).powf(a(1)),
                    "hypot" => a(0).hypot(a(1)),
                    "min" => args.iter().map(|n| n.eval(x)).fold(f64::INFINITY, f64::min),
                    "max" => args
                        .iter()
                        .map(|n| n.eval(x))
                        .fold(f64::NEG_INFINITY, f64::max),
                    _ => unreachable!("the parser only accepts the functions it knows"),
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("the number {v}"),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Op(s) => format!("'{s}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    column: usize,
}

/// Operators, longest first so that `<=` is not read as `<` then `=`.
const OPERATORS: &[&str] = &[
    "**", "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "^", "<", ">", "!",
];

fn tokenize(text: &str) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: e or E, an optional sign, digits.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let s: String = chars[start..i].iter().collect();
            let v: f64 = s.parse().map_err(|_| FormulaError {
                column,
                message: format!("'{s}' is not a number"),
            })?;
            out.push(Token {
                tok: Tok::Num(v),
                column,
            });
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let tok = match s.as_str() {
                "and" => Tok::Op("&&"),
                "or" => Tok::Op("||"),
                "not" => Tok::Op("!"),
                _ => Tok::Ident(s),
            };
            out.push(Token { tok, column });
            continue;
        }
        let tok = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(tok) = tok {
            out.push(Token { tok, column });
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match OPERATORS.iter().find(|op| rest.starts_with(**op)) {
            Some(op) => {
                let op: &'static str = if *op == "**" { "^" } else { op };
                out.push(Token {
                    tok: Tok::Op(op),
                    column,
                });
                i += if rest.starts_with("**") {
                    2
                } else {
                    op.chars().count()
                };
            }
            None => {
                let hint = match c {
                    '=' => " (write == to compare)",
                    '&' => " (write && for 'and')",
                    '|' => " (write || for 'or')",
                    _ => "",
                };
                return Err(FormulaError {
                    column,
                    message: format!("'{c}' is not allowed here{hint}"),
                });
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    inputs: usize,
    depth: usize,
    /// The column just past the text, for "expected … at the end" errors.
    end: usize,
    variables: usize,
}

type Parsed = Result<(Node, Kind), FormulaError>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end, |t| t.column)
    }

    fn eat_op(&mut self, ops: &[&str]) -> Option<(&'static str, usize)> {
        match self.peek() {
            Some(Token {
                tok: Tok::Op(op),
                column,
            }) if ops.contains(op) => {
                let r = (*op, *column);
                self.at += 1;
                Some(r)
            }
            _ => None,
        }
    }

    fn err<T>(&self, column: usize, message: impl Into<String>) -> Result<T, FormulaError> {
        Err(FormulaError {
            column,
            message: message.into(),
        })
    }

    /// `node` must be a number (`what` names the operator that needs it).
    fn number(&self, node: (Node, Kind), column: usize, what: &str) -> Result<Node, FormulaError> {
        match node.1 {
            Kind::Number => Ok(node.0),
            Kind::Condition => self.err(
                column,
                format!("{what} needs a number here, not a condition (a comparison)"),
            ),
        }
    }

    fn condition(
        &self,
        node: (Node, Kind),
        column: usize,
        what: &str,
    ) -> Result<Node, FormulaError> {
        match node.1 {
            Kind::Condition => Ok(node.0),
            Kind::Number => self.err(
                column,
                format!("{what} joins conditions (comparisons such as x1 > 0), not numbers"),
            ),
        }
    }

    fn expr(&mut self) -> Parsed {
        let column = self.column();
        self.nested(column, Parser::or)
    }

    /// `read` one level deeper (a parenthesis, a sign, a negation), refused past [`MAX_DEPTH`]
    /// so that the recursive reader never runs off the stack's end.
    fn nested(&mut self, column: usize, read: fn(&mut Parser) -> Parsed) -> Parsed {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(
                column,
                format!("the formula nests deeper than {MAX_DEPTH} levels"),
            );
        }
        let r = read(self);
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> Parsed {
        self.joined("||", BinOp::Or, Parser::and)
    }

    fn and(&mut self) -> Parsed {
        self.joined("&&", BinOp::And, Parser::negation)
    }

    /// Conditions joined by `op` (left to right), each read by `next`.
    fn joined(&mut self, op: &'static str, bin: BinOp, next: fn(&mut Parser) -> Parsed) -> Parsed {
        let what = format!("'{op}'");
        let start = self.column();
        let mut left = next(self)?;
        while self.eat_op(&[op]).is_some() {
            let l = self.condition(left, start, &what)?;
            let rcol = self.column();
            let r = next(self)?;
            let r = self.condition(r, rcol, &what)?;
            left = (Node::Bin(bin, Box::new(l), Box::new(r)), Kind::Condition);
        }
        Ok(left)
    }

    /// `!`/`not` negates a whole comparison, as Python's `not` does: `!x1 > 0` is `!(x1 > 0)`.
    fn negation(&mut self) -> Parsed {
        let Some((_, col)) = self.eat_op(&["!"]) else {
            return self.comparison();
        };
        let inner_col = self.column();
        let inner = self.nested(col, Parser::negation)?;
        Ok((
            Node::Not(Box::new(self.condition(inner, inner_col, "'!'")?)),
            Kind::Condition,
        ))
    }

    fn comparison(&mut self) -> Parsed {
        let start = self.column();
        let left = self.additive()?;
        let Some((op, _)) = self.eat_op(&["<", "<=", ">", ">=", "==", "!="]) else {
            return Ok(left);
        };
        let what = format!("'{op}'");
        let l = self.number(left, start, &what)?;
        let rcol = self.column();
        let r = self.additive()?;
        let r = self.number(r, rcol, &what)?;
        if let Some((op2, col2)) = self.eat_op(&["<", "<=", ">", ">=", "==", "!="]) {
            return self.err(
                col2,
                format!("a second comparison '{op2}' in a row is ambiguous: join them with && (e.g. a < b && b < c)"),
            );
        }
        let op = match op {
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "==" => BinOp::Eq,
            _ => BinOp::Ne,
        };
        Ok((Node::Bin(op, Box::new(l), Box::new(r)), Kind::Condition))
    }

    fn additive(&mut self) -> Parsed {
        let start = self.column();
        let mut left = self.multiplicative()?;
        while let Some((op, _)) = self.eat_op(&["+", "-"]) {
            let what = format!("'{op}'");
            let l = self.number(left, start, &what)?;
            let rcol = self.column();
            let r = self.multiplicative()?;
            let r = self.number(r, rcol, &what)?;
            let op = if op == "+" { BinOp::Add } else { BinOp::Sub };
            left = (Node::Bin(op, Box::new(l), Box::new(r)), Kind::Number);
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Parsed {
        let start = self.column();
        let mut left = self.unary()?;
        while let Some((op, _)) = self.eat_op(&["*", "/", "%"]) {
            let what = format!("'{op}'");
            let l = self.number(left, start, &what)?;
            let rcol = self.column();
            let r = self.unary()?;
            let r = self.number(r, rcol, &what)?;
            let op = match op {
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                _ => BinOp::Rem,
            };
            left = (Node::Bin(op, Box::new(l), Box::new(r)), Kind::Number);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Parsed {
        if let Some((op, col)) = self.eat_op(&["-", "+"]) {
            let inner_col = self.column();
            let inner = self.nested(col, Parser::unary)?;
            let inner = self.number(inner, inner_col, &format!("'{op}'"))?;
            return Ok(match op {
                "-" => (Node::Neg(Box::new(inner)), Kind::Number),
                _ => (inner, Kind::Number),
            });
        }
        self.power()
    }

    fn power(&mut self) -> Parsed {
        let start = self.column();
        let base = self.primary()?;
        let Some(_) = self.eat_op(&["^"]) else {
            return Ok(base);
        };
        let b = self.number(base, start, "'^'")?;
        let ecol = self.column();
        // Right-associative, and the exponent may carry its own sign: 2^-1, 2^3^2 = 2^9.
        let e = self.unary()?;
        let e = self.number(e, ecol, "'^'")?;
        Ok((
            Node::Bin(BinOp::Pow, Box::new(b), Box::new(e)),
            Kind::Number,
        ))
    }

    fn primary(&mut self) -> Parsed {
        let Some(t) = self.peek().cloned() else {
            return self.err(
                self.end,
                "the formula ends where a number or variable is expected",
            );
        };
        self.at += 1;
        match t.tok {
            Tok::Num(v) => Ok((Node::Num(v), Kind::Number)),
            Tok::LParen => {
                let inner = self.expr()?;
                match self.peek() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    Some(other) => self.err(
                        other.column,
                        format!(
                            "expected ')' to close the '(' at column {}, found {}",
                            t.column,
                            other.tok.describe()
                        ),
                    ),
                    None => self.err(
                        self.end,
                        format!("the '(' at column {} is never closed", t.column),
                    ),
                }
            }
            Tok::Ident(name) => {
                let is_call = matches!(
                    self.peek(),
                    Some(Token {
                        tok: Tok::LParen,
                        ..
                    })
                );
                if is_call {
                    self.call(&name, t.column)
                } else {
                    self.name(&name, t.column)
                }
            }
            other => self.err(
                t.column,
                format!(
                    "expected a number, a variable or '(' but found {}",
                    other.describe()
                ),
            ),
        }
    }

    fn name(&mut self, name: &str, column: usize) -> Parsed {
        let constant = match name {
            "pi" => Some(std::f64::consts::PI),
            "tau" => Some(std::f64::consts::TAU),
            "e" => Some(std::f64::consts::E),
            _ => None,
        };
        if let Some(v) = constant {
            return Ok((Node::Num(v), Kind::Number));
        }
        let index = if name == "x" {
            Some(1)
        } else {
            name.strip_prefix('x')
                .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
                .and_then(|d| d.parse::<usize>().ok())
        };
        match index {
            Some(i) if i >= 1 && i <= self.inputs && i <= MAX_VARIABLES => {
                self.variables = self.variables.max(i);
                Ok((Node::Var(i - 1), Kind::Number))
            }
            Some(i) if i >= 1 => self.err(
                column,
                match self.inputs {
                    0 => format!("'{name}': this formula takes no variables"),
                    1 => format!("'{name}': the data has one input, x1"),
                    n => format!("'{name}': the data has {n} inputs, x1 … x{n}"),
                },
            ),
            _ => {
                let hint = if FUNCTIONS.iter().any(|(f, _)| *f == name) {
                    format!(" ('{name}' is a function: write {name}(…))")
                } else {
                    String::new()
                };
                self.err(
                    column,
                    format!("unknown name '{name}' (use x1, x2, …, pi, e){hint}"),
                )
            }
        }
    }

    fn call(&mut self, name: &str, column: usize) -> Parsed {
        let Some(&(fname, arity)) = FUNCTIONS.iter().find(|(f, _)| *f == name) else {
            let known: Vec<&str> = FUNCTIONS.iter().map(|(f, _)| *f).collect();
            return self.err(
                column,
                format!("unknown function '{name}' (known: {})", known.join(", ")),
            );
        };
        self.at += 1; // the '('
        let mut args = Vec::new();
        if matches!(
            self.peek(),
            Some(Token {
                tok: Tok::RParen,
                ..
            })
        ) {
            self.at += 1;
        } else {
            loop {
                let acol = self.column();
                let a = self.expr()?;
                args.push(self.number(a, acol, &format!("{fname}()"))?);
                match self.peek() {
                    Some(Token {
                        tok: Tok::Comma, ..
                    }) => self.at += 1,
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => {
                        self.at += 1;
                        break;
                    }
                    Some(other) => {
                        return self.err(
                            other.column,
                            format!(
                                "expected ',' or ')' in the call of {fname}, found {}",
                                other.tok.describe()
                            ),
                        );
                    }
                    None => {
                        return self.err(
                            self.end,
                            format!("the call of {fname} at column {column} is never closed"),
                        );
                    }
                }
            }
        }
        let ok = match arity {
            Some(n) => args.len() == n,
            None => args.len() >= 2,
        };
        if !ok {
            let wanted = match arity {
                Some(1) => "one argument".to_string(),
                Some(n) => format!("{n} arguments"),
                None => "two or more arguments".to_string(),
            };
            return self.err(
                column,
                format!("{fname} takes {wanted}, not {}", args.len()),
            );
        }
        Ok((Node::Call(fname, args), Kind::Number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str, inputs: usize) -> Formula {
        Formula::parse(text, inputs).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str, inputs: usize) -> FormulaError {
        match Formula::parse(text, inputs) {
            Ok(_) => panic!("{text} should not parse"),
            Err(e) => e,
        }
    }

    #[test]
    fn arithmetic_is_f64_with_the_usual_precedence() {
        assert_eq!(f("1/2", 0).eval(&[]), 0.5);
        assert_eq!(f("1 + 2*3", 0).eval(&[]), 7.0);
        assert_eq!(f("(1 + 2)*3", 0).eval(&[]), 9.0);
        assert_eq!(f("2^3^2", 0).eval(&[]), 512.0);
        assert_eq!(f("2**3", 0).eval(&[]), 8.0);
        assert_eq!(f("-2^2", 0).eval(&[]), -4.0);
        assert_eq!(f("2^-1", 0).eval(&[]), 0.5);
        assert_eq!(f("7 % 4", 0).eval(&[]), 3.0);
        assert_eq!(f("1e-3 * 1000", 0).eval(&[]), 1.0);
        assert_eq!(f(".5 + 2.", 0).eval(&[]), 2.5);
        assert_eq!(f("10 - 4 - 3", 0).eval(&[]), 3.0);
        assert_eq!(f("8 / 4 / 2", 0).eval(&[]), 1.0);
    }

    #[test]
    fn variables_functions_and_constants() {
        let s = f("sin(3*x1) + x2^2", 2);
        let x = [0.4, -0.7];
        assert_eq!(s.eval(&x), (3.0f64 * 0.4).sin() + (-0.7f64).powf(2.0));
        assert!(!s.is_condition());
        assert_eq!(s.variables(), 2);
        assert_eq!(f("x", 1).eval(&[0.25]), 0.25);
        assert_eq!(f("pi", 0).eval(&[]), std::f64::consts::PI);
        assert_eq!(f("max(1, x1, 3)", 1).eval(&[5.0]), 5.0);
        assert_eq!(f("min(1, x1, 3)", 1).eval(&[5.0]), 1.0);
        assert_eq!(f("atan2(1, 1)", 0).eval(&[]), std::f64::consts::FRAC_PI_4);
        assert_eq!(f("relu(-2) + sigmoid(0)", 0).eval(&[]), 0.5);
        assert_eq!(f("sign(-3) + abs(-2)", 0).eval(&[]), 1.0);
        assert!(f("sqrt(x1)", 1).eval(&[-1.0]).is_nan());
    }

    #[test]
    fn conditions_are_told_from_numbers() {
        let c = f("x1^2 + x2 > 0.5", 2);
        assert!(c.is_condition());
        assert_eq!(c.eval(&[1.0, 0.0]), 1.0);
        assert_eq!(c.eval(&[0.0, 0.0]), 0.0);
        let c = f("x1 > 0 && x2 > 0 || !(x1 < 0.5)", 2);
        assert!(c.is_condition());
        assert_eq!(c.eval(&[0.1, 0.1]), 1.0);
        assert_eq!(c.eval(&[0.1, -0.1]), 0.0);
        assert_eq!(c.eval(&[0.6, -0.1]), 1.0);
        assert_eq!(f("x1 > 0 and not x2 > 0", 2).eval(&[1.0, -1.0]), 1.0);
        assert_eq!(f("x1 == 1 or x1 != 1", 1).eval(&[3.0]), 1.0);
    }

    #[test]
    fn errors_name_the_column() {
        let e = err("x1 + * 2", 1);
        assert_eq!(e.column, 6, "{e}");
        let e = err("sin(x1", 1);
        assert_eq!(e.column, 7, "{e}");
        assert!(e.message.contains("never closed"), "{e}");
        let e = err("x1 + x3", 2);
        assert_eq!(e.column, 6, "{e}");
        assert!(e.message.contains("x1 … x2"), "{e}");
        let e = err("sinn(x1)", 1);
        assert_eq!(e.column, 1);
        assert!(e.message.contains("unknown function 'sinn'"), "{e}");
        let e = err("3x1", 1);
        assert_eq!(e.column, 2, "{e}");
        assert!(e.message.contains("write *"), "{e}");
        let e = err("x1 = 0", 1);
        assert_eq!(e.column, 4, "{e}");
        assert!(e.message.contains("=="), "{e}");
        let e = err("0 < x1 < 1", 1);
        assert_eq!(e.column, 8, "{e}");
        let e = err("x1 + (x1 > 0)", 1);
        assert_eq!(e.column, 6, "{e}");
        assert!(e.message.contains("condition"), "{e}");
        let e = err("x1 && x1 > 0", 1);
        assert_eq!(e.column, 1, "{e}");
        let e = err("pow(1)", 0);
        assert!(e.message.contains("2 arguments"), "{e}");
        let e = err("", 1);
        assert!(e.message.contains("empty"), "{e}");
        let e = err("x1)", 1);
        assert_eq!(e.column, 3, "{e}");
        let e = err("sin + 1", 1);
        assert!(e.message.contains("is a function"), "{e}");
        assert_eq!(err("x1 $ 2", 1).column, 4);
        assert_eq!(err("1 +", 0).column, 4);
        assert_eq!(
            format!("{}", err("1 +", 0)).split(':').next(),
            Some("at column 4")
        );
    }

    #[test]
    fn render_writes_the_same_expression_elsewhere() {
        let f = f("-x1^2 + sin(3*x2) % 2 / max(1, x1, x2)", 2);
        let text = f
            .render(
                &|i| format!("v{i}"),
                &|v| format!("{v:?}"),
                &|name, args| format!("{name}[{}]", args.join(", ")),
            )
            .unwrap();
        assert_eq!(
            text,
            "add[neg[pow[v0, 2.0]], div[fmod[sin[mul[3.0, v1]], 2.0], max[1.0, v0, v1]]]"
        );
        let c = Formula::parse("x1 > 0", 1).unwrap();
        assert!(
            c.render(&|_| String::new(), &|_| String::new(), &|_, _| String::new(
            ))
            .is_none()
        );
    }

    #[test]
    fn hostile_input_is_refused_not_overflowed() {
        let deep = "(".repeat(100_000) + "1" + &")".repeat(100_000);
        assert!(Formula::parse(&deep, 0).is_err());
        let deep = "(".repeat(1000) + "1" + &")".repeat(1000);
        assert!(err(&deep, 0).message.contains("nests deeper"));
        let minus = "-".repeat(1000) + "1";
        assert!(err(&minus, 0).message.contains("nests deeper"));
        assert!(Formula::parse(&"-".repeat(100), 0).is_err());
        assert!(Formula::parse("1e999999", 0).is_ok_and(|f| f.eval(&[]).is_infinite()));
        assert!(Formula::parse("x99999999999999999999999", 1).is_err());
        assert!(Formula::parse("中文", 1).is_err());
    }

    #[test]
    fn random_texts_never_panic() {
        // Every short text over the formula alphabet: read, and evaluated when read.
        let alphabet: Vec<char> = "x1( )+-*/^<>=!&|,.e2s".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let mut s = String::new();
            let mut r = state;
            for _ in 0..len {
                s.push(alphabet[(r % alphabet.len() as u64) as usize]);
                r /= alphabet.len() as u64;
                if r == 0 {
                    r = state.rotate_left(17);
                }
            }
            if let Ok(f) = Formula::parse(&s, 2) {
                let _ = f.eval(&[0.3, -0.2]);
            }
        }
    }
}
