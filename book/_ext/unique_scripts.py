"""Sphinx extension: include each script once per page.

sphinx-thebe, as Jupyter Book 1.0.4 sets it up, adds its inline configuration
script twice, and the second copy stops the browser with "Identifier
'THEBE_JS_URL' has already been declared". Dropping exact repeats fixes it.
"""


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        # An inline script has filename None or "" depending on who added it.
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
