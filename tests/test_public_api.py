"""The public names: facekit.__all__ is complete and resolvable, and every annotation of every
public callable resolves at run time (typing.get_type_hints), as documentation tools and
runtime type checkers need."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import typing

import numpy as np

import facekit


def _public_callables():
    for name in facekit.__all__:
        obj = getattr(facekit, name)
        if inspect.isclass(obj):
            yield name, obj
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member
        elif inspect.isfunction(obj):
            yield name, obj


def test_every_name_in_all_exists_and_all_is_sorted_without_duplicates():
    assert len(set(facekit.__all__)) == len(facekit.__all__)
    missing = [n for n in facekit.__all__ if not hasattr(facekit, n)]
    assert missing == []


def test_all_lists_the_public_types_callers_annotate_with():
    for name in ("PRESETS", "EFFECTS", "Reference", "ImageLike", "ColorFormat", "VerifyResult",
                 "models", "errors"):
        assert name in facekit.__all__, name


def test_no_future_import_leaks_into_the_namespace():
    tree = ast.parse(inspect.getsource(facekit))
    future = {alias.asname or alias.name for node in tree.body
              if isinstance(node, ast.ImportFrom) and node.module == "__future__"
              for alias in node.names}
    assert "annotations" not in facekit.__all__ and not hasattr(facekit, "annotations")
    assert not future & set(facekit.__all__)


def test_public_names_defined_elsewhere_in_the_package_are_exported():
    # Every public class or function defined in a facekit module and imported into the
    # package namespace is listed (a name added to __init__ but forgotten in __all__ fails).
    exported = set(facekit.__all__)
    for name, obj in vars(facekit).items():
        if name.startswith("_") or inspect.ismodule(obj) and name not in ("errors", "models"):
            continue
        if getattr(obj, "__module__", "").startswith("facekit"):
            assert name in exported, name


def test_type_hints_resolve_on_every_public_callable():
    checked = []
    for name, obj in _public_callables():
        typing.get_type_hints(obj)  # raises NameError for a name known only to type checkers
        checked.append(name)
    assert {"Beautifier.apply", "FaceVerifier.verify", "anonymize", "FaceLandmarker.detect",
            "Frame.crop_normalize"} <= set(checked)


def test_image_like_resolves_to_numpy_and_the_pil_protocol():
    from facekit.image import PILImageLike

    hints = typing.get_type_hints(facekit.Beautifier.apply)
    assert typing.get_args(hints["image"]) == (np.ndarray, PILImageLike)
    assert hints["image"] == facekit.ImageLike


def test_version_comes_from_the_installed_distribution():
    assert facekit.__version__ == importlib.metadata.version("facekit")
