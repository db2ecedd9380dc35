"""The legacy history parser, in parts: `records` (what a parse gives), `reading` (bytes to
lines) and `parser` (lines to records). `etatmachine.legacy` is its public module."""
