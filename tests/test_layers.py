"""The layering of uvhunt, enforced: a lower layer never imports a higher one, packages of
the same layer do not import each other, and nothing imports the folders by their bare names
(``quant``, ``hls``, …): everything is ``uvhunt.<package>``. See docs/architecture.md."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = (
    ("uvhunt._core",),
    ("uvhunt.euso",),
    ("uvhunt.quant",),
    ("uvhunt.hls", "uvhunt.detection"),
    ("uvhunt.sim", "uvhunt.firmware_tests", "uvhunt.sweep"),
    ("uvhunt.console",),
    ("uvhunt.stages",),
    ("uvhunt.pipeline",),
    ("uvhunt.cli",),
)
"""Lowest first. A module may import its own package and the packages of lower layers."""
BARE = ("euso", "quant", "hls", "sim", "firmware_tests")


def package_of(module: str) -> str | None:
    """The layered package a module belongs to (``uvhunt`` itself holds only the version)."""
    for layer in LAYERS:
        for package in layer:
            if module == package or module.startswith(package + "."):
                return package
    return None


def rank(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def source_modules(root: Path) -> dict[str, Path]:
    """Every installed module's dotted name and file, from pyproject.toml's package mapping."""
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config.get("package-dir", {})
    modules = {}
    for package in config["packages"]:
        folder = root / mapping.get(package, package.replace(".", "/"))
        for path in sorted(folder.glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            modules[name] = path
    return modules


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, inside functions too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = module.rsplit(".", node.level)[0]
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def layer_violations(root: Path) -> list[str]:
    """Each import that breaks the layering, as ``file:line: who imports what``."""
    problems: dict[str, None] = {}  # ordered, each (place, packages) once
    for module, path in source_modules(root).items():
        own = package_of(module)
        for line, target in imports(path, module):
            where = f"{path.relative_to(root)}:{line}"
            if target.split(".")[0] in BARE:
                problems[f"{where}: imports the bare name {target}; use uvhunt.{target}"] = None
                continue
            other = package_of(target)
            if own is None or other is None or other == own:
                continue
            if rank(other) >= rank(own):
                text = f"{where}: {own} (layer {rank(own)}) imports {other} (layer {rank(other)})"
                problems[text] = None
    return list(problems)


def test_no_layer_imports_a_higher_one():
    assert layer_violations(ROOT) == []


def test_every_installed_module_has_a_layer():
    modules = source_modules(ROOT)
    assert len(modules) > 60
    assert [m for m in modules if m != "uvhunt" and package_of(m) is None] == []


def test_the_check_catches_a_lower_layer_importing_a_higher_one(tmp_path):
    """A copy of the tree with one deliberate violation of each kind."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    modules = source_modules(ROOT)
    for path in set(modules.values()):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    assert layer_violations(tmp_path) == []
    with open(tmp_path / "euso" / "geometry.py", "a") as f:
        f.write("\n\ndef late():\n    from uvhunt.stages import STAGES\n\n    return STAGES\n")
    with open(tmp_path / "hls" / "parts.py", "a") as f:
        f.write("\nfrom uvhunt.detection.scan import scan_movie  # noqa\n")
    with open(tmp_path / "quant" / "metrics.py", "a") as f:
        f.write("\nimport euso.geometry  # noqa\n")
    problems = layer_violations(tmp_path)
    assert len(problems) == 3, problems
    assert any("uvhunt.euso (layer 1) imports uvhunt.stages (layer 6)" in p for p in problems)
    assert any("uvhunt.hls (layer 3) imports uvhunt.detection (layer 3)" in p for p in problems)
    assert any("bare name euso.geometry" in p for p in problems)


def test_tests_and_benchmarks_use_the_package_names_too():
    bad = []
    for folder in ("tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for line, target in imports(path, f"{folder}.{path.stem}"):
                if target.split(".")[0] in BARE:
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert bad == []
