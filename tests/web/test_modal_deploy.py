"""Deploy-time guarantees of modal_app: fail closed in a container, pinned images, paths
relative to the file, framing on the CPU image until the SR path lands."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import modal
import pytest

import modal_app
from lib.config import Settings, check_deployed

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENV = {
    "S3_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com", "S3_BUCKET": "reel-ballers",
    "S3_ACCESS_KEY_ID": "key", "S3_SECRET_ACCESS_KEY": "secret",
    "AUTH_MODE": "token", "AUTH_SECRET": "0123456789abcdef",
}
ENV_NAMES = ("STORAGE", "S3_ENDPOINT_URL", "R2_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID",
             "S3_SECRET_ACCESS_KEY", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "AUTH_MODE",
             "AUTH_SECRET", "URL_SECRET")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return monkeypatch


def test_laptop_settings_are_refused_when_deployed():
    with pytest.raises(RuntimeError, match="STORAGE is 'local'"):
        check_deployed(Settings())
    s3 = Settings(storage="s3", s3_access_key_id="k", s3_secret_access_key="s",
                  url_secret="x" * 32)
    with pytest.raises(RuntimeError, match="AUTH_MODE is 'dev'"):
        check_deployed(s3)
    with pytest.raises(RuntimeError, match="needs AUTH_SECRET"):
        check_deployed(Settings(**{**s3.__dict__, "auth_mode": "token"}))


def test_the_required_secret_keys_are_enough_to_start(clean_env):
    """Secret.from_name(required_keys=...) names exactly what a container needs."""
    assert set(GOOD_ENV) == set(modal_app.STORAGE_KEYS) | set(modal_app.AUTH_KEYS)
    for name, value in GOOD_ENV.items():
        clean_env.setenv(name, value)
    assert check_deployed(Settings.from_env()).storage == "s3"


def test_a_deployed_container_refuses_to_start_on_local_storage(clean_env):
    clean_env.setattr(modal, "is_local", lambda: False)  # what Modal reports in a container
    modal_app._CONTEXT.clear()
    with pytest.raises(RuntimeError, match="ephemeral disk"):
        modal_app.web.local()
    with pytest.raises(RuntimeError, match="Refusing to start"):
        modal_app.overlay.local("overlay", {"user_id": "a", "export_id": "x"})
    for name, value in {**GOOD_ENV, "AUTH_MODE": "dev"}.items():
        clean_env.setenv(name, value)
    with pytest.raises(RuntimeError, match="AUTH_MODE is 'dev'"):
        modal_app.web.local()


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / f"{name}.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([0-9][^ ]*)", line)
            assert match, f"{line!r} is not an exact pin"
            pins[match.group(1)] = match.group(3)
    return pins


def test_images_are_pinned_to_the_versions_tested():
    for name in ("web", "media", "ai", "dev"):  # gpu.txt: CUDA builds, in the GPU image only
        for package, version in _pins(name).items():
            installed = importlib.metadata.version(package)
            assert installed.split("+")[0] == version, (package, installed, version)
    assert _pins("web")["modal"] == modal.__version__
    expected = [f"{p}{'[standard]' if p == 'uvicorn' else ''}=={v}"
                for p, v in _pins("web").items() if p != "modal"]
    assert expected == modal_app.WEB_PACKAGES
    assert all("==" in p for p in modal_app.MEDIA_PACKAGES + modal_app.GPU_PACKAGES)


def test_pyproject_reads_the_same_lists():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert {"dependencies", "optional-dependencies"} <= set(project["project"]["dynamic"])
    dynamic = project["tool"]["setuptools"]["dynamic"]
    assert dynamic["dependencies"]["file"] == ["requirements/web.txt"]
    extras = dynamic["optional-dependencies"]
    for extra in ("media", "ai", "gpu", "dev"):
        assert extras[extra]["file"] == [f"requirements/{extra}.txt"]


def test_local_paths_are_relative_to_the_file_not_the_cwd(tmp_path):
    source = (ROOT / "modal_app.py").read_text()
    assert not re.search(r"add_local_dir\(\s*[\"']", source), "a cwd-relative add_local_dir"
    code = "import modal_app; print(modal_app.ROOT, len(modal_app.MEDIA_PACKAGES))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(ROOT), str(len(modal_app.MEDIA_PACKAGES))]


def test_framing_and_vision_run_on_the_gpu_image():
    """The SR path is real: framing runs on the GPU class (T4), as do detect and follow."""
    assert modal_app.FRAMING_ON_GPU is True
    for cls in (modal_app.FramingGpu, modal_app.VisionGpu):
        spec = cls._get_class_service_function()._spec_
        assert spec.gpus == "T4"
        assert "load" in vars(cls._get_user_cls())  # models load once, in @modal.enter
    assert modal_app.JOB_FUNCTIONS["detect"] is modal_app.JOB_FUNCTIONS["follow"]
    assert "onnxruntime-gpu==" in " ".join(modal_app.GPU_PACKAGES)


def test_editor_build_goes_into_the_web_image(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITOR_BUILD_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="no index.html"):
        modal_app.editor_build()
    (tmp_path / "index.html").write_text("<html></html>")
    assert modal_app.editor_build() == tmp_path
    monkeypatch.delenv("EDITOR_BUILD_DIR")
    assert modal_app.editor_build() is None


def test_the_switch_puts_framing_back_on_the_cpu_media_image(tmp_path):
    """FRAMING_ON_GPU=False gives a plain function on the CPU media image (Lanczos)."""
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
path = Path({str(ROOT / "modal_app.py")!r})
src = path.read_text().replace("FRAMING_ON_GPU = True", "FRAMING_ON_GPU = False")
ns = {{"__name__": "modal_app_cpu", "__file__": str(path)}}
exec(compile(src, str(path), "exec"), ns)
spec = ns["framing"]._spec_
print(spec.gpus, spec.image is ns["overlay"]._spec_.image, ns["TORCH_INDEX"].endswith("/cu128"))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "True", "True"]
