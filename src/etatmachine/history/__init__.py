"""The legacy history parser, in parts: `records` (what a parse gives), `reading` (bytes to
lines), `parser` (lines to records) and `shapes` (the fields-sets its records share).
`etatmachine.legacy` is its public module."""
