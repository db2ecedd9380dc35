"""Keep pytest's doctest collection to the Markdown pages (not Sphinx's conf or outputs)."""

collect_ignore = ["conf.py", "_ext", "browser_check.py"]
collect_ignore_glob = ["_build/*", "_generated/*", "_vendor/*"]
