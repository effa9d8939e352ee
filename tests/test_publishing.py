"""What publishing the book relies on, checked offline and at once.

The workflows cannot run here, so besides the schema and zizmor (a stage of
`python3 course.py test`) this checks what they must do; and that the settings
the book repeats for its tools (the published address, the repository) agree.
"""
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
SPHINX = CONFIG["sphinx"]["config"]


def workflow(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(data):
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_action_is_pinned_to_a_commit_and_checkout_keeps_no_credentials(name):
    data = workflow(name)
    text = (WORKFLOWS / name).read_text()
    for step in steps(data):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            assert re.search(re.escape(step["uses"]) + r" # v\d", text), f"{step['uses']}: say which version"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False
    assert "permissions" in data, f"{name}: no top-level permissions"


def test_the_test_workflow_runs_the_readme_command_on_pushes_and_pull_requests():
    data = workflow("test.yml")
    assert {"push", "pull_request"} <= set(data["on"])
    assert any(step.get("run") == "python3 course.py test" for step in steps(data))
    assert "python3 course.py test" in (ROOT / "README.md").read_text()


def test_the_pages_workflow_publishes_the_built_book_from_main():
    data = workflow("pages.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    upload = next(s for s in steps(data) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"].rstrip("/") == "_build/html"
    assert upload["with"]["include-hidden-files"] is True  # .nojekyll is a hidden file
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(data))
    assert data["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_the_link_check_is_scheduled():
    data = workflow("linkcheck.yml")
    assert data["on"]["schedule"][0]["cron"]
    assert any(step.get("run") == "python3 course.py linkcheck" for step in steps(data))


def test_the_published_address_is_set_once_and_agrees_everywhere():
    base = CONFIG["html"]["baseurl"]
    assert base.endswith("/")
    assert SPHINX["ogp_site_url"] == base
    assert SPHINX["ogp_image"].startswith(base)
    assert SPHINX["notfound_urls_prefix"] == urlsplit(base).path
    assert f'href="{urlsplit(base).path}"' in SPHINX["notfound_context"]["body"]
    assert "sphinx.ext.githubpages" in CONFIG["sphinx"]["extra_extensions"]  # writes .nojekyll
    assert (ROOT / "book" / "_static" / "social-card.png").is_file()


def test_launch_buttons_and_binder_environment():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["branch"] == "main"
    assert "graphviz" in (ROOT / "apt.txt").read_text().split()
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "-e ." in lines or "." in lines, "Binder would not install the course's package"


def test_the_distribution_is_not_pypis_unrelated_minigrad():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] != "minigrad"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert packages["include"] == ["minigrad*"]  # `import minigrad` stays


def test_licences_are_stated():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "CC BY 4.0" in (ROOT / "LICENSE-TEXT.md").read_text()
    footer = CONFIG["html"]["extra_footer"]
    assert "creativecommons.org/licenses/by/4.0" in footer and "LICENSE" in footer
