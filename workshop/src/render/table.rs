//! The one table writer: a header and rows of cells, as Markdown (for
//! notes, slides and `table.md`) or as aligned plain text (for a terminal).
//! Every table the workshop prints goes through it, so that they all align
//! alike.

use std::fmt::Write as _;

/// A table: a header, rows of as many cells, and which columns hold
/// figures (aligned right; the others are aligned left).
pub struct Table {
    header: Vec<String>,
    /// Whether the plain text leaves the header out: columns of rows only.
    headless: bool,
    rows: Vec<Vec<String>>,
    figures_from: usize,
}

impl Table {
    /// A table with these column headings, every column aligned left.
    pub fn new<T: Into<String>>(header: impl IntoIterator<Item = T>) -> Table {
        let header: Vec<String> = header.into_iter().map(Into::into).collect();
        Table {
            figures_from: header.len(),
            header,
            headless: false,
            rows: Vec::new(),
        }
    }

    /// Rows of `columns` cells aligned as a table's, under no header in
    /// plain text (Markdown's tables always have one: empty, here).
    pub fn without_header(columns: usize) -> Table {
        Table {
            headless: true,
            ..Table::new(vec![String::new(); columns])
        }
    }

    /// The columns from `column` on hold figures: aligned right.
    pub fn figures_from(mut self, column: usize) -> Table {
        self.figures_from = column;
        self
    }

    /// Adds a row; it has as many cells as the header.
    pub fn row<T: Into<String>>(&mut self, cells: impl IntoIterator<Item = T>) {
        let row: Vec<String> = cells.into_iter().map(Into::into).collect();
        debug_assert_eq!(row.len(), self.header.len(), "{row:?}");
        self.rows.push(row);
    }

    /// GitHub's Markdown: `| a | b |`, figures aligned right (`---:`).
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        let rules: Vec<String> = (0..self.header.len())
            .map(|column| match column >= self.figures_from {
                true => "---:".to_string(),
                false => "---".to_string(),
            })
            .collect();
        out += &line(&rules);
        for row in &self.rows {
            out += &line(row);
        }
        out
    }

    /// Plain text, each line after `indent`: every column as wide as its
    /// widest cell, two spaces apart; no space at the end of a line.
    pub fn text(&self, indent: &str) -> String {
        let header = (!self.headless).then_some(&self.header);
        let widths: Vec<usize> = (0..self.header.len())
            .map(|column| {
                header
                    .into_iter()
                    .chain(&self.rows)
                    .map(|row| row[column].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in header.into_iter().chain(&self.rows) {
            let mut line = indent.to_string();
            for (column, (cell, &width)) in row.iter().zip(&widths).enumerate() {
                if column > 0 {
                    line += "  ";
                }
                let _ = match column >= self.figures_from {
                    true => write!(line, "{cell:>width$}"),
                    false => write!(line, "{cell:width$}"),
                };
            }
            out += line.trim_end();
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    fn crowd() -> Table {
        let mut table = Table::new(["", "served", "RSS"]).figures_from(1);
        table.row(["stage2-accept-loop", "1 of 10", "2.0 MiB"]);
        table.row(["stage3", "10 of 10", "12.5 MiB"]);
        table
    }

    #[test]
    fn markdown_aligns_figures_right() {
        assert_eq!(
            crowd().markdown(),
            "|  | served | RSS |\n| --- | ---: | ---: |\n| stage2-accept-loop | 1 of 10 | 2.0 MiB |\n| stage3 | 10 of 10 | 12.5 MiB |\n"
        );
    }

    #[test]
    fn text_pads_each_column_to_its_widest_cell() {
        assert_eq!(
            crowd().text("  "),
            concat!(
                "                        served       RSS\n",
                "  stage2-accept-loop   1 of 10   2.0 MiB\n",
                "  stage3              10 of 10  12.5 MiB\n",
            )
        );
    }

    /// Without a header, the rows alone set the widths, and the text is
    /// aligned by characters, not bytes.
    #[test]
    fn rows_without_a_header_align_by_characters() {
        let mut table = Table::without_header(2);
        table.row(["stage3-concurrent", "concurrent"]);
        table.row(["étape3", "serial"]);
        assert_eq!(
            table.text("  "),
            "  stage3-concurrent  concurrent\n  étape3             serial\n"
        );
    }
}
