"""One table over every standard export channel and every ephemeral object a pipeline returns:
each channel is refused with BiometricExportError or shows no values; the channels documented
as open behave exactly as documented."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import facekit
from facekit.audit.channels import (
    ARRAY_OBJECTS,
    ARRAY_ONLY,
    DOCUMENTED_OPEN,
    REFUSED,
    ephemeral_objects,
    marshal_refused,
    printed_forms,
    text_channels,
)
from facekit.errors import BiometricExportError
from facekit.verify import Reference

OBJECTS = ["result", "face", "landmarks", "landmark_row", "detection", "detected_face",
           "keypoints", "frame", "reference", "user_face", "portrait_result", "matte", "cutout"]


@pytest.fixture(scope="module")
def live(photo):
    """Every kind of ephemeral object, alive, plus the landmark values to look for."""
    with ephemeral_objects(photo) as objects:
        values = np.array(objects["landmarks"])  # test-only copy, public photo
        yield objects, values


def test_the_table_covers_every_kind_of_object(live):
    objects, _ = live
    assert sorted(objects) == sorted(OBJECTS)
    assert isinstance(objects["reference"], Reference)
    assert isinstance(objects["user_face"], facekit.UserFace)
    assert all(isinstance(objects[name], facekit.EphemeralArray) for name in ARRAY_OBJECTS)
    assert objects["landmark_row"].flags.c_contiguous  # the flat row that buffer readers take


@pytest.mark.parametrize("channel", sorted(REFUSED))
@pytest.mark.parametrize("name", OBJECTS)
def test_serializing_channels_are_refused(live, name, channel, tmp_path):
    objects, _ = live
    with pytest.raises(BiometricExportError):
        REFUSED[channel](objects[name], tmp_path)


@pytest.mark.parametrize("channel", sorted(ARRAY_ONLY))
@pytest.mark.parametrize("name", ARRAY_OBJECTS)
def test_array_channels_are_refused_and_write_nothing(live, name, channel, tmp_path):
    objects, _ = live
    with pytest.raises(BiometricExportError):
        ARRAY_ONLY[channel](objects[name], tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", OBJECTS)
def test_marshal_cannot_carry_them(live, name):
    objects, _ = live
    assert marshal_refused(objects[name])


@pytest.mark.parametrize("name", OBJECTS)
def test_text_channels_show_no_values(live, name):
    objects, values = live
    texts = text_channels(objects[name])
    if name in ARRAY_OBJECTS:
        assert "np.testing" in texts
    needles = printed_forms(values)  # any landmark coordinate, as Python or numpy prints it
    for channel, text in texts.items():
        assert text, channel
        assert not any(needle in text for needle in needles), (channel, text)


def test_reference_refuses_export_and_expires(photo):
    with facekit.FaceVerifier() as verifier:
        with verifier.reference(photo) as reference:
            assert not reference.expired
            with pytest.raises(BiometricExportError, match="Reference refuses pickle"):
                pickle.dumps(reference)
        assert reference.expired and repr(reference) == "Reference(ended)"


# --- The channels PRIVACY.md lists as open: each check asserts the documented behaviour. ---

def _open_np_save_of_a_list(view, values):
    buffer = io.BytesIO()
    np.save(buffer, [view])  # numpy copies the list into a plain array first
    buffer.seek(0)
    assert np.array_equal(np.load(buffer)[0], values)


def _open_pandas(view, values):
    import pandas as pd  # in the test extra: the documented open channel must be checked

    frame = pd.DataFrame(view)
    held = frame.to_numpy()
    assert type(held) is np.ndarray and not np.shares_memory(held, view)
    assert np.array_equal(held, values)
    assert f"{values[0, 0]}"[:6] in frame.to_csv()


def _open_np_testing_difference(view, values):
    with pytest.raises(AssertionError) as failure:
        np.testing.assert_allclose(view, np.zeros(view.shape))
    message = str(failure.value)
    largest = np.abs(values).max()
    difference = next(line for line in message.splitlines() if "Max absolute" in line)
    assert np.isclose(float(difference.rsplit(":", 1)[1]), largest, rtol=1e-6)
    others = message.replace(difference, "")
    assert not any(f"{v:.4g}" in others for v in values[:5].ravel())


def _open_explicit_copies(view, values):
    for kept in (np.array(view), view.copy(), view.astype(np.float64), view * 1):
        assert type(kept) is np.ndarray and kept.flags.writeable
        assert not np.shares_memory(kept, view) and np.array_equal(kept, values)
    assert float(view[0, 0]) == values[0, 0]


OPEN_CHECKS = {
    "np.save of a list": _open_np_save_of_a_list,
    "pandas": _open_pandas,
    "np.testing difference": _open_np_testing_difference,
    "explicit copies": _open_explicit_copies,
}


def test_every_documented_open_channel_is_checked():
    assert set(OPEN_CHECKS) == set(DOCUMENTED_OPEN)


@pytest.mark.parametrize("channel", sorted(OPEN_CHECKS))
def test_documented_open_channels_behave_as_documented(live, channel):
    objects, values = live
    OPEN_CHECKS[channel](objects["landmarks"], values)
