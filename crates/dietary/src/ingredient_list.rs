//! Parsing an ingredient list as printed on a label into a flat tree of ingredients.
//!
//! Labels are written by people, so the parser is forgiving: it never fails and never panics (a property test
//! checks this), it keeps every ingredient *as written* for the evidence shown to users, and it separates the
//! declared ingredients from "Contains: ..." and "May contain ..." statements, which carry different weight.

use serde::{Deserialize, Serialize};

/// Which part of the label an ingredient comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The ingredient list proper.
    Ingredients,
    /// An allergen statement such as "Contains: milk, soy": certainly present.
    Contains,
    /// A precautionary statement such as "May contain traces of nuts": possibly present through
    /// cross-contact.
    Traces,
}

/// One ingredient of a parsed list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedIngredient {
    /// The ingredient as written, without its sub-ingredients and percentage, e.g. `Enriched Flour`.
    pub text: String,
    /// The percentage printed with it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// 0 for a top-level ingredient, 1 for its sub-ingredients, and so on.
    pub depth: u8,
    /// Index of the enclosing ingredient in the list, for sub-ingredients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u16>,
    /// Which part of the label it comes from.
    pub section: Section,
    /// Written as one of alternatives ("palm oil and/or canola oil"): it may or may not be used. The analyser
    /// treats alternatives as present, because a label that names one allows the maker to use it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alternative: bool,
}

/// Nesting deeper than this is read as plain text; real labels rarely nest more than three levels.
const MAX_DEPTH: u8 = 12;
/// More ingredients than this are ignored; protects the analyser from pasted documents.
const MAX_INGREDIENTS: usize = 1024;

/// Statement openings that introduce precautionary ("may contain") allergen labelling.
const TRACE_OPENINGS: &[&str] = &[
    "may contain",
    "may also contain",
    "might contain",
    "can contain",
    "could contain",
    "contains traces",
    "contain traces",
    "traces",
    "trace",
    "may be present",
];
/// Openings of "made in a facility that also handles..." statements.
const FACILITY_OPENINGS: &[&str] = &[
    "made ",
    "produced ",
    "manufactured ",
    "processed ",
    "packed ",
    "packaged ",
    "prepared ",
    "this product ",
];
/// Words after which a facility statement lists what else the facility handles.
const FACILITY_LIST_STARTS: &[&str] = &[
    " also processes ",
    " also handles ",
    " also uses ",
    " also produces ",
    " also packages ",
    " processes ",
    " handles ",
    " uses ",
    " produces ",
    " containing ",
    " with ",
];
/// Openings of allergen statements.
const CONTAINS_OPENINGS: &[&str] = &[
    "contains",
    "allergens",
    "allergen",
    "allergy advice",
    "allergy information",
    "allergen information",
];
/// "Contains 2% or less of: ..." continues the ingredient list; it does not declare allergens.
const CONTINUATION_OPENINGS: &[&str] = &[
    "contains less than",
    "contains 2% or less",
    "contains 2 % or less",
    "contains 1% or less",
    "contains one or more",
    "contains two percent or less",
    "less than 2% of",
    "2% or less of",
];
/// Segments that are instructions to the reader, not ingredients.
const READER_NOTES: &[&str] = &[
    "see ingredients",
    "in bold",
    "underlined",
    "in capital",
    "for allergens",
    "minimum",
    "at least",
    "in addition to",
];
/// Headings that may precede the list.
const LIST_HEADINGS: &[&str] = &[
    "ingredients",
    "ingredient",
    "ingredients list",
    "원재료명",
    "원재료",
    "원재료명 및 함량",
];

/// Where the parser is in the label.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Section(Section),
    /// After an allergen statement ends: following sentences are prose ("Store in a cool place") unless they
    /// open another statement.
    Trailer,
}

/// Parses an ingredient list. Never fails: what cannot be understood is kept as an ingredient that the
/// taxonomy will not recognise, which makes the verdict "unknown" rather than wrong.
#[must_use]
pub fn parse(text: &str) -> Vec<ParsedIngredient> {
    let mut parser = Parser { out: Vec::new() };
    let text = strip_heading(text);
    let mut mode = Mode::Section(Section::Ingredients);
    for (segment, ends_sentence) in split_top_level(text, true) {
        mode = parser.segment(segment, mode);
        if ends_sentence && matches!(mode, Mode::Section(Section::Contains | Section::Traces)) {
            mode = Mode::Trailer;
        }
    }
    parser.out
}

struct Parser {
    out: Vec<ParsedIngredient>,
}

impl Parser {
    /// Handles one top-level segment and returns the mode for the next one.
    fn segment(&mut self, segment: &str, mode: Mode) -> Mode {
        let segment = trim_item(segment);
        if segment.is_empty() {
            return mode;
        }
        let lower = segment.to_ascii_lowercase();
        if READER_NOTES.iter().any(|note| lower.contains(note)) {
            return mode;
        }
        if let Some(rest) = CONTINUATION_OPENINGS
            .iter()
            .find_map(|opening| lower.strip_prefix(opening))
        {
            let body = after_of_or_colon(&segment[segment.len() - rest.len()..]);
            self.alternatives(body, 0, None, Section::Ingredients);
            return Mode::Section(Section::Ingredients);
        }
        if let Some(body) = trace_statement(segment, &lower) {
            self.alternatives(body, 0, None, Section::Traces);
            return Mode::Section(Section::Traces);
        }
        if let Some(rest) = CONTAINS_OPENINGS
            .iter()
            .find_map(|opening| lower.strip_prefix(opening))
        {
            let body = segment[segment.len() - rest.len()..].trim_start_matches([':', ' ', '-']);
            self.alternatives(body, 0, None, Section::Contains);
            return Mode::Section(Section::Contains);
        }
        match mode {
            Mode::Section(section) => {
                self.alternatives(segment, 0, None, section);
                mode
            }
            Mode::Trailer => mode,
        }
    }

    /// Splits "a and/or b or c" (and, in allergen statements, "a and b") into alternatives, then parses each.
    fn alternatives(&mut self, text: &str, depth: u8, parent: Option<u16>, section: Section) {
        let mut separators = vec![" and/or ", " and / or ", " or "];
        if section != Section::Ingredients {
            separators.extend([" and ", " & "]);
        }
        let parts = split_words(text, &separators);
        let alternative = section == Section::Ingredients && parts.len() > 1;
        for part in parts {
            self.item(part, depth, parent, section, alternative);
        }
    }

    /// Parses one ingredient with its percentage and parenthesised sub-ingredients.
    fn item(
        &mut self,
        text: &str,
        depth: u8,
        parent: Option<u16>,
        section: Section,
        alternative: bool,
    ) {
        if self.out.len() >= MAX_INGREDIENTS {
            return;
        }
        let text = strip_conjunction(trim_item(text));
        if text.is_empty() {
            return;
        }
        // "Emulsifier: soya lecithin" names a class, then the ingredient that fills it.
        if let Some(colon) = top_level_find(text, ':') {
            let (class, rest) = (trim_item(&text[..colon]), trim_item(&text[colon + 1..]));
            if !class.is_empty() && !rest.is_empty() && !class.contains(['(', '[', '{']) {
                let class_index = self.push(class, None, depth, parent, section, alternative);
                self.item(rest, depth.saturating_add(1), class_index, section, false);
                return;
            }
        }
        let (name, groups) = split_groups(text, depth);
        let (name, mut percent) = extract_percent(&name);
        let mut children = Vec::new();
        for group in groups {
            match parse_percent_only(group) {
                Some(value) if percent.is_none() => percent = Some(value),
                Some(_) => {}
                None => children.push(group),
            }
        }
        let name = trim_item(&name);
        let index = if name.is_empty() {
            parent
        } else {
            self.push(name, percent, depth, parent, section, alternative)
        };
        let child_depth = if name.is_empty() {
            depth
        } else {
            depth.saturating_add(1)
        };
        for group in children {
            for (child, _) in split_top_level(group, false) {
                let child = trim_item(child);
                let lower = child.to_ascii_lowercase();
                // "(148g per 100g ketchup)": a quantity note, not an ingredient.
                if lower.contains(" per 100") {
                    continue;
                }
                // "Natural flavour (contains milk)" names what the ingredient is made of.
                let child = match ["contains ", "contain ", "from ", "including "]
                    .iter()
                    .find_map(|p| lower.strip_prefix(p))
                {
                    Some(rest) => &child[child.len() - rest.len()..],
                    None => child,
                };
                self.alternatives(child, child_depth, index, section);
            }
        }
    }

    fn push(
        &mut self,
        text: &str,
        percent: Option<f64>,
        depth: u8,
        parent: Option<u16>,
        section: Section,
        alternative: bool,
    ) -> Option<u16> {
        let index = u16::try_from(self.out.len()).ok()?;
        self.out.push(ParsedIngredient {
            text: text.to_owned(),
            percent,
            depth,
            parent,
            section,
            alternative,
        });
        Some(index)
    }
}

/// Removes a heading such as "Ingredients:" or "INGREDIENTS -".
fn strip_heading(text: &str) -> &str {
    let trimmed = text.trim_start();
    let Some(end) = trimmed.find([':', '-', '\n']) else {
        return trimmed;
    };
    let heading = crate::text::normalise(&trimmed[..end]);
    if LIST_HEADINGS.contains(&heading.as_str()) {
        &trimmed[end + 1..]
    } else {
        trimmed
    }
}

/// If the segment is a precautionary statement, the text listing what may be present.
fn trace_statement<'a>(segment: &'a str, lower: &str) -> Option<&'a str> {
    if let Some(rest) = TRACE_OPENINGS.iter().find_map(|opening| {
        lower
            .strip_prefix(opening)
            .filter(|rest| rest.is_empty() || rest.starts_with([' ', ':', 's']))
    }) {
        let mut body = &segment[segment.len() - rest.len()..];
        let prefixes = [
            "s ",
            " traces of",
            " trace amounts of",
            " traces",
            " small amounts of",
            " of",
            ":",
        ];
        loop {
            let lower_body = body.to_ascii_lowercase();
            match prefixes.iter().find(|p| lower_body.starts_with(*p)) {
                Some(prefix) => body = &body[prefix.len()..],
                None => break,
            }
        }
        return Some(body.trim_start_matches([':', ' ']));
    }
    if FACILITY_OPENINGS
        .iter()
        .any(|opening| lower.starts_with(opening))
        && [
            "factory",
            "facility",
            "premises",
            "equipment",
            "line",
            "site",
            "plant",
            "environment",
        ]
        .iter()
        .any(|place| lower.contains(place))
    {
        let start = FACILITY_LIST_STARTS
            .iter()
            .filter_map(|word| lower.find(word).map(|at| at + word.len()))
            .min()
            .unwrap_or(lower.len());
        return Some(
            segment
                .get(start..)
                .unwrap_or("")
                .trim_start_matches([':', ' ']),
        );
    }
    None
}

/// The text after "... of" or ":" in "Contains 2% or less of: salt, ...".
fn after_of_or_colon(rest: &str) -> &str {
    let lower = rest.to_ascii_lowercase();
    let cut = lower
        .find(':')
        .map(|at| at + 1)
        .or_else(|| lower.find(" of ").map(|at| at + 4))
        .or_else(|| lower.starts_with("of ").then_some(3))
        .unwrap_or(0);
    let body = rest.get(cut..).unwrap_or("").trim();
    let lower_body = body.to_ascii_lowercase();
    match ["each of the following", "the following"]
        .iter()
        .find(|p| lower_body.starts_with(*p))
    {
        Some(prefix) => body[prefix.len()..].trim_start_matches([':', ' ']),
        None => body,
    }
}

/// Splits text at separators that are not inside brackets. With `sentences`, a full stop that is not a
/// decimal point also separates, and is reported so that statements can end at it.
fn split_top_level(text: &str, sentences: bool) -> Vec<(&str, bool)> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0u32;
    let mut start = 0;
    for (at, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' | ';' | '•' | '\n' if depth == 0 => {
                if c == ',' && is_decimal_comma(bytes, at) {
                    continue;
                }
                parts.push((&text[start..at], c == '\n' && sentences));
                start = at + c.len_utf8();
            }
            '.' if depth == 0 && sentences => {
                let digit_before = at > 0 && bytes.get(at - 1).is_some_and(u8::is_ascii_digit);
                let digit_after = bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
                if !(digit_before && digit_after) {
                    parts.push((&text[start..at], true));
                    start = at + 1;
                }
            }
            _ => {}
        }
    }
    parts.push((&text[start..], true));
    parts
}

/// "cocoa 4,5%": a comma between digits followed by a percent sign is a decimal comma.
fn is_decimal_comma(bytes: &[u8], at: usize) -> bool {
    if at == 0 || !bytes.get(at - 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut next = at + 1;
    let digits_start = next;
    while bytes.get(next).is_some_and(u8::is_ascii_digit) {
        next += 1;
    }
    if next == digits_start {
        return false;
    }
    while bytes.get(next) == Some(&b' ') {
        next += 1;
    }
    bytes.get(next) == Some(&b'%')
}

/// The position of `needle` outside brackets.
fn top_level_find(text: &str, needle: char) -> Option<usize> {
    let mut depth = 0u32;
    for (at, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ if c == needle && depth == 0 => return Some(at),
            _ => {}
        }
    }
    None
}

/// Splits text at any of the word separators (case-insensitive), outside brackets.
fn split_words<'a>(text: &'a str, separators: &[&str]) -> Vec<&'a str> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0u32;
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                if let Some(separator) = separators
                    .iter()
                    .find(|s| bytes[at..].starts_with(s.as_bytes()))
                {
                    parts.push(&text[start..at]);
                    at += separator.len();
                    start = at;
                    continue;
                }
            }
            _ => {}
        }
        at += 1;
    }
    parts.push(&text[start..]);
    parts.retain(|part| !part.trim().is_empty());
    parts
}

/// The text outside brackets, and the contents of each top-level bracket group.
fn split_groups(text: &str, depth: u8) -> (String, Vec<&str>) {
    if depth >= MAX_DEPTH {
        return (
            text.replace(['(', ')', '[', ']', '{', '}'], " "),
            Vec::new(),
        );
    }
    let mut name = String::with_capacity(text.len());
    let mut groups = Vec::new();
    let mut level = 0u32;
    let mut group_start = 0;
    for (at, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => {
                if level == 0 {
                    group_start = at + 1;
                    name.push(' ');
                }
                level += 1;
            }
            ')' | ']' | '}' if level > 0 => {
                level -= 1;
                if level == 0 {
                    groups.push(&text[group_start..at]);
                }
            }
            ')' | ']' | '}' => {}
            _ if level == 0 => name.push(c),
            _ => {}
        }
    }
    if level > 0 {
        // An unclosed bracket: its contents are still sub-ingredients.
        groups.push(&text[group_start..]);
    }
    (name, groups)
}

/// Removes a percentage ("4.5%", "min. 30 %", "<2%") from an ingredient name and returns it.
fn extract_percent(name: &str) -> (String, Option<f64>) {
    let Some(sign) = name.find('%') else {
        return (name.to_owned(), None);
    };
    let before = name[..sign].trim_end();
    let number_start = before
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .map_or(0, |at| {
            at + before[at..].chars().next().map_or(1, char::len_utf8)
        });
    let number = &before[number_start..];
    let value = number
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite());
    let mut prefix = before[..number_start].trim_end();
    for qualifier in [
        "min.", "min", "max.", "max", "approx.", "approx", "ca.", "<", ">", "≥", "≤",
    ] {
        if prefix.to_ascii_lowercase().ends_with(qualifier) {
            prefix = prefix[..prefix.len() - qualifier.len()].trim_end();
        }
    }
    let rest = name[sign + 1..].trim_start_matches('*');
    (format!("{prefix} {rest}"), value)
}

/// The value of a bracket group that holds only a percentage, such as "(45%)" or "(min. 30 %)".
fn parse_percent_only(group: &str) -> Option<f64> {
    let (rest, value) = extract_percent(group);
    let rest = rest.trim_matches(|c: char| c.is_whitespace() || c == '*' || c == '.');
    if rest.is_empty() { value } else { None }
}

fn trim_item(text: &str) -> &str {
    text.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '*' | '.' | ':' | '-' | '†' | '‡' | '_' | '"')
    })
}

fn strip_conjunction(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    for conjunction in ["and/or ", "and ", "or ", "& "] {
        if lower.starts_with(conjunction) {
            return text[conjunction.len()..].trim_start();
        }
    }
    text
}
