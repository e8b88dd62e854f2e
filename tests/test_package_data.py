"""Every data file the code reads ships in the wheel (and so in the Docker image, which installs one): setuptools
packages only the .py files unless `[tool.setuptools.package-data]` names the others."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_under_bot_is_package_data() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]
    missing = []
    for path in sorted((ROOT / "bot").rglob("*")):
        if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(ROOT)
        covered = False
        for package, globs in patterns.items():
            package_dir = Path(*package.split("."))
            if relative.is_relative_to(package_dir):
                inside = relative.relative_to(package_dir).as_posix()
                covered = covered or any(fnmatch.fnmatch(inside, glob) for glob in globs)
        if not covered:
            missing.append(str(relative))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
