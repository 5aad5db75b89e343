"""Decoding audio files: libsndfile first, then FFmpeg's decoders through PyAV.

libsndfile (`soundfile`) reads WAV, FLAC, Ogg Vorbis, Opus and MP3 and seeks in them exactly; it stays
first so a file it reads is always decoded the same way and keeps its features. What it cannot open (AAC
and ALAC in .m4a, odd MP3s) goes to PyAV, whose wheels carry FFmpeg's libraries for x86_64 and aarch64
(no apt package, no subprocess) and which seeks; it is imported only when a file needs it.
`AudioSource.read` gives mono float32 at the file's own rate; `measured_duration` is where the decoded
audio ends, not what the header claims; `decoder_set()` names the decoders and their versions, so a file
that failed is tried again once they change; `resampled` changes the rate (soxr). Why these two:
docs/architecture.md, "Decoding audio".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from functools import lru_cache
from types import ModuleType
from typing import Protocol

import numpy as np

TAIL_S = 5.0  # decoded at the end the header gives, to find where the audio really ends
OVERRUN_S = 5.0  # read past that end: audio there means the header says too little
FORWARD_CHUNK_S = 60.0
MAX_FORWARD_CHUNKS = 180  # at most 3 hours more than the header says
EMPTY = np.zeros(0, dtype=np.float32)


class DecodeError(Exception):
    """This decoder cannot open or decode the file (another may)."""


class AudioSource(Protocol):
    name: str  # "libsndfile" | "FFmpeg"
    rate: int
    claimed_s: float | None  # the duration the header gives (None: it gives none)
    measured_s: float | None  # measured_duration's answer, once asked

    def read(self, start_s: float, seconds: float | None) -> np.ndarray:
        """Mono float32 at `rate` from `start_s` (None seconds: to the end); empty past the end."""
        ...

    def close(self) -> None: ...


def resampled(y: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono `y` at `rate` Hz → `target` Hz by soxr's high quality, ceil(len(y) · target / rate) samples of
    y's dtype: librosa.resample(res_type="soxr_hq")'s numbers, without importing librosa (and numba)."""
    if rate == target or y.size == 0:
        return y
    import soxr

    ratio = float(target) / rate
    size = int(np.ceil(y.shape[-1] * ratio))
    out = soxr.resample(y, rate, target, quality="soxr_hq")[:size]
    return np.asarray(np.pad(out, (0, size - out.size)) if out.size < size else out, dtype=y.dtype)


def _mono(planar: np.ndarray) -> np.ndarray:
    """(channels, n) → (n,), the channels' mean (librosa.to_mono)."""
    return planar[0] if planar.shape[0] == 1 else np.mean(planar, axis=0)


class SoundfileSource:
    name = "libsndfile"
    measured_s: float | None = None

    def __init__(self, path: str) -> None:
        import soundfile as sf

        try:
            # bytes: libsndfile gets the real name, also one that is not UTF-8 (soundfile encodes a str strictly)
            self._file = sf.SoundFile(os.fsencode(path))
        except Exception as error:  # LibsndfileError, RuntimeError, TypeError: it does not know the format
            raise DecodeError(_first_line(error)) from None
        self.rate = int(self._file.samplerate)
        self._frames = int(self._file.frames)
        self.claimed_s = self._frames / self.rate if self._frames > 0 else None
        # libsndfile's MP3 length is the VBR header's, or a guess from the first frame without one, and it
        # decodes no further than that: sources() lets FFmpeg measure such a file too.
        self.estimated_length = self._file.format == "MP3"

    def read(self, start_s: float, seconds: float | None) -> np.ndarray:
        start = int(start_s * self.rate)  # librosa.load's rounding, so features match what they were
        if 0 < self._frames <= start:
            return EMPTY
        try:
            self._file.seek(start)
            count = -1 if seconds is None else int(seconds * self.rate)
            y = self._file.read(frames=count, dtype=np.float32, always_2d=True)
        except Exception as error:
            raise DecodeError(_first_line(error)) from None
        return _mono(y.T)

    def close(self) -> None:
        self._file.close()


class PyAVSource:
    name = "FFmpeg"
    measured_s: float | None = None

    def __init__(self, path: str, av: ModuleType) -> None:
        self._av = av
        try:
            self._container = av.open(path, metadata_errors="ignore")
        except Exception as error:  # av.error.InvalidDataError and kin: FFmpeg does not know it either
            raise DecodeError(_first_line(error)) from None
        if not self._container.streams.audio:
            self._container.close()
            raise DecodeError("no audio stream in it")
        self._stream = self._container.streams.audio[0]
        self.rate = int(self._stream.rate or self._stream.codec_context.sample_rate or 0)
        if self.rate <= 0:
            self._container.close()
            raise DecodeError("no sample rate in its header")
        self.claimed_s = self._claimed()

    def _claimed(self) -> float | None:
        stream, container = self._stream, self._container
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return float(container.duration / self._av.time_base)
        return None

    def read(self, start_s: float, seconds: float | None) -> np.ndarray:
        wanted = None if seconds is None else int(seconds * self.rate)
        parts: list[np.ndarray] = []
        got = 0
        try:
            for position, block in self._blocks(start_s):
                skip = max(0, round((start_s - position) * self.rate))
                if skip >= block.size:
                    continue
                parts.append(block[skip:])
                got += block.size - skip
                if wanted is not None and got >= wanted:
                    break
        except DecodeError:
            if not parts:
                raise
        y = np.concatenate(parts) if parts else EMPTY
        return y if wanted is None else y[:wanted]

    def _blocks(self, start_s: float) -> Iterator[tuple[float, np.ndarray]]:
        """(time of its first sample, mono float32) per decoded frame from about start_s on."""
        stream, av = self._stream, self._av
        resampler = av.AudioResampler(format="fltp")  # planar float, same rate and channels
        try:
            self._container.seek(int(start_s / stream.time_base) if stream.time_base else 0, stream=stream,
                                 backward=True, any_frame=False)
            position: float | None = None
            for frame in self._container.decode(stream):
                if frame.time is not None:
                    position = float(frame.time)
                elif position is None:
                    position = start_s
                for out in resampler.resample(frame):
                    block = _mono(out.to_ndarray()).astype(np.float32, copy=False)
                    yield position, block
                    position += block.size / self.rate
        except (av.error.FFmpegError, ValueError) as error:  # a damaged packet, a seek it cannot do
            raise DecodeError(_first_line(error)) from None

    def close(self) -> None:
        self._container.close()


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else type(error).__name__


@lru_cache(maxsize=1)
def _pyav() -> ModuleType | None:
    try:
        import av
    except ImportError:
        return None
    return av


@lru_cache(maxsize=1)
def decoder_set() -> str:
    """The decoders this emotune has, with versions, e.g. "libsndfile 1.2.2, FFmpeg (PyAV 18.1.0)"."""
    import soundfile as sf

    names = [f"libsndfile {sf.__libsndfile_version__}"]
    av = _pyav()
    if av is not None:
        names.append(f"FFmpeg (PyAV {av.__version__})")
    return ", ".join(names)


def _open(opener: Callable[[], AudioSource], opened: list[AudioSource]) -> AudioSource | None:
    try:
        source = opener()
    except DecodeError:
        return None
    opened.append(source)
    return source


def _in_order(path: str, opened: list[AudioSource]) -> Iterator[AudioSource]:
    """libsndfile, then FFmpeg, each opened only when asked for (PyAV is not even imported for a file
    libsndfile reads); FFmpeg first for an MP3 whose length libsndfile only guessed and FFmpeg finds longer."""
    first: AudioSource | None = _open(lambda: SoundfileSource(path), opened)
    if isinstance(first, SoundfileSource) and not first.estimated_length:
        yield first
        first = None
    av = _pyav()
    ffmpeg = _open(lambda: PyAVSource(path, av), opened) if av is not None else None
    if first is not None and ffmpeg is not None and measured_duration(ffmpeg) > measured_duration(first) + 1.0:
        first, ffmpeg = ffmpeg, first  # an MP3 without a true length header: only FFmpeg decodes all of it
    yield from (source for source in (first, ffmpeg) if source is not None)
    if not opened:
        missing = "" if av is not None else "; FFmpeg's decoders are not installed (pip install av)"
        raise DecodeError(f"not a recognised audio format, or the file is corrupt{missing}")


def sources(path: str) -> Generator[AudioSource, None, None]:
    """The file opened by each decoder that can open it, in the order to try them (the caller stops at
    the one that serves; all are closed when it does); DecodeError when none can open it."""
    opened: list[AudioSource] = []
    try:
        yield from _in_order(path, opened)
    finally:
        for source in opened:
            source.close()


class SpanSource:
    """The part [start_s, end_s) of an opened file (a cue sheet's track) as an AudioSource of its own: reads
    from its time 0 are the file's from start_s, and it ends at end_s (None: where the file's audio ends)."""

    def __init__(self, source: AudioSource, start_s: float, end_s: float | None) -> None:
        self._source = source
        self.name = source.name
        self.rate = source.rate
        self.start_s = max(0.0, start_s)
        file_end = measured_duration(source)
        end = file_end if end_s is None else min(end_s, file_end)
        self.claimed_s: float | None = max(0.0, end - self.start_s)
        self.measured_s: float | None = self.claimed_s

    def read(self, start_s: float, seconds: float | None) -> np.ndarray:
        length = self.measured_s or 0.0
        if start_s >= length:
            return EMPTY
        seconds = length - start_s if seconds is None else min(seconds, length - start_s)
        return self._source.read(self.start_s + start_s, seconds)

    def close(self) -> None:
        self._source.close()


def measured_duration(source: AudioSource) -> float:
    """Where the decoded audio ends, in seconds (the header's duration checked by decoding its end)."""
    if source.measured_s is None:
        source.measured_s = _measure(source)
    return source.measured_s


def _read_or_nothing(source: AudioSource, start_s: float, seconds: float | None) -> np.ndarray:
    """source.read, where a decoding error counts as no audio (past the end of a truncated file)."""
    try:
        return source.read(start_s, seconds)
    except DecodeError:
        return EMPTY


def _measure(source: AudioSource) -> float:
    claimed = source.claimed_s
    if not claimed or not np.isfinite(claimed):
        return _decoded_end(source, 0.0)
    start = max(0.0, claimed - TAIL_S)
    tail = _read_or_nothing(source, start, claimed - start + OVERRUN_S)
    if tail.size == 0:  # the header says more than there is: find the last second with audio
        return _decoded_end(source, _last_audible(source, start))
    end = start + tail.size / source.rate
    if end < claimed + OVERRUN_S - 1.0 / source.rate:
        return end
    return _decoded_end(source, end)  # more than the header says: read on to the end


def _decoded_end(source: AudioSource, start: float) -> float:
    """Decode from `start` to the end (in chunks, at most MAX_FORWARD_CHUNKS); where it ends."""
    position = start
    for _ in range(MAX_FORWARD_CHUNKS):
        chunk = _read_or_nothing(source, position, FORWARD_CHUNK_S)
        position += chunk.size / source.rate
        if chunk.size < int(FORWARD_CHUNK_S * source.rate):
            break
    return position


def _last_audible(source: AudioSource, below: float) -> float:
    """A start (within a second) where decoding still gives audio, below `below`: bisection."""
    low, high = 0.0, below
    while high - low > 1.0:
        middle = (low + high) / 2
        if _read_or_nothing(source, middle, 0.1).size:
            low = middle
        else:
            high = middle
    return low
