"""The wheel ships only the product: pyproject's package find takes inpaint_core and every desktop
feature package, never the developer tools, tests or benchmarks; the bundle excludes them too."""

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_takes_the_product_packages_only():
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    packages = set(
        find_packages(str(ROOT), include=find["find"]["include"], exclude=find["find"]["exclude"])
    )
    assert {"inpaint_core", "inpaint_core.engines", "desktop", "desktop.window"} <= packages
    assert {f"desktop.{f}" for f in ("canvas", "generation", "compare", "layers")} <= packages
    assert not {p for p in packages if p.split(".")[0] in ("tools", "tests", "bench")}
    assert not list((ROOT / "desktop").rglob("*demo*.py"))
    assert not list((ROOT / "desktop").rglob("screenshot*.py"))


def test_the_bundle_excludes_the_developer_packages():
    spec = (ROOT / "packaging" / "inpaint_studio.spec").read_text()
    for name in ("tools", "tests", "bench"):
        assert f'"{name}"' in spec.split("excludes=")[1].split("]")[0]
