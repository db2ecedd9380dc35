"""The legacy history parser, in parts: `records` (what a parse gives), `reading` (bytes to
lines) and `parser` (lines to records; its records share `etatmachine.fields_sets`).
`etatmachine.legacy` is its public module: its functions check their arguments, then run
these."""
