//! Stage 5 is where every cost lesson ends up, as the lesson has it: its
//! copy of a lesson's code must not drift from the lesson's own.

/// `splice.rs` is `stage3-splice`'s, but for the first lines of its doc
/// comment and the `holds` a shutdown needs.
#[test]
fn its_splice_is_the_splice_lessons_own() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    for file in ["src/splice.rs", "src/no_splice.rs"] {
        let read =
            |crate_name: &str| std::fs::read_to_string(root.join(crate_name).join(file)).unwrap();
        let lesson = read("stage3-splice");
        let ours = read("stage5-production")
            .replace(
                "//! `stage3-splice`'s lesson, with what a shutdown needs (how many bytes a\n//! pipe still holds). What Go 1.21's `io.Copy(os.Stderr, conn)` does for\n//! you on Linux, in the open:",
                "//! What Go 1.21's `io.Copy(os.Stderr, conn)` does for you on Linux, in the\n//! open:",
            )
            .replace(
                "    /// How many bytes the pipe holds: those stderr has not taken yet.\n    pub fn holds(&self) -> usize {\n        self.holds\n    }\n\n",
                "",
            )
            .replace(
                "    pub fn holds(&self) -> usize {\n        match *self {}\n    }\n\n",
                "",
            )
            .replace("so does stage 5,", "so does this lesson,");
        assert!(
            ours == lesson,
            "stage5-production/{file} differs from stage3-splice/{file} beyond what a shutdown needs: copy the lesson's again"
        );
    }
}
