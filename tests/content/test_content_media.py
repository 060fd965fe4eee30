"""Media checks against real encoder output (ffmpeg), not only hand-made headers."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from content.filetypes import check_file

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")


def _encoders() -> str:
    return subprocess.run([FFMPEG, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout


def _make(tmp_path, name, *args):
    out = tmp_path / name
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args, str(out)], check=True, timeout=120)
    return out


VIDEO = ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=0.5",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"]


def test_h264_mp4_is_accepted_with_moov_first_or_last(tmp_path):
    if "libx264" not in _encoders():
        pytest.skip("ffmpeg has no libx264")
    last = _make(tmp_path, "last.mp4", *VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    first = _make(tmp_path, "first.mp4", *VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                  "-movflags", "+faststart")
    assert check_file(last, "mp4") is None
    assert check_file(first, "mp4") is None


@pytest.mark.parametrize("encoder, fourcc", [("libx265", "hev1"), ("mpeg4", "mp4v")])
def test_other_video_codecs_are_refused(tmp_path, encoder, fourcc):
    if encoder not in _encoders():
        pytest.skip(f"ffmpeg has no {encoder}")
    out = _make(tmp_path, f"{encoder}.mp4", *VIDEO, "-c:v", encoder, "-c:a", "aac")
    issue = check_file(out, "mp4")
    assert issue is not None and issue.code == "mp4-not-h264" and issue.params["found"] == fourcc


def test_aac_m4a_and_mp3_are_accepted(tmp_path):
    m4a = _make(tmp_path, "a.m4a", *AUDIO, "-c:a", "aac")
    assert check_file(m4a, "m4a") is None
    if "libmp3lame" in _encoders():
        mp3 = _make(tmp_path, "a.mp3", *AUDIO, "-c:a", "libmp3lame")
        assert check_file(mp3, "mp3") is None


def test_video_renamed_m4a_is_refused(tmp_path):
    if "libx264" not in _encoders():
        pytest.skip("ffmpeg has no libx264")
    video = _make(tmp_path, "v.mp4", *VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    renamed = tmp_path / "v.m4a"
    video.rename(renamed)
    issue = check_file(renamed, "m4a")
    assert issue is not None and issue.code == "file-content-mismatch"


def test_audio_only_mp4_is_not_a_video(tmp_path):
    out = _make(tmp_path, "audio.mp4", *AUDIO, "-c:a", "aac")
    issue = check_file(out, "mp4")
    assert issue is not None and issue.code == "mp4-not-h264"
