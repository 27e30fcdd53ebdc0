"""The GPU's utilisation while a benchmark loop runs, for bench_train.py and bench_evaluate.py."""
import shutil
import subprocess
import threading

import numpy as np
import torch


class GpuUtilisation:
    """Samples the GPU's utilisation (percent) in a thread while in use: torch.cuda.utilization (needs pynvml),
    else nvidia-smi; `method` is None when neither works (or on the CPU)."""

    def __init__(self, device, interval=0.1):
        self.device, self.interval = device, interval
        self.samples, self.method = [], None
        if device.type == "cuda":
            for method in ("torch.cuda.utilization", "nvidia-smi"):
                if self._read(method) is not None:
                    self.method = method
                    break
        self._stop = threading.Event()
        self._thread = None

    def _read(self, method):
        try:
            if method == "torch.cuda.utilization":
                return float(torch.cuda.utilization(self.device))
            if shutil.which("nvidia-smi") is None:
                return None
            index = self.device.index if self.device.index is not None else torch.cuda.current_device()
            output = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                     "-i", str(index)], capture_output=True, text=True, timeout=5).stdout
            return float(output.strip().splitlines()[0])
        except Exception:  # pylint: disable=broad-except (no pynvml, no driver tool, odd output)
            return None

    def _sample(self):
        while not self._stop.wait(self.interval):
            value = self._read(self.method)
            if value is not None:
                self.samples.append(value)

    def __enter__(self):
        self.samples = []
        if self.method is not None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        return False

    def text(self):
        if self.method is None:
            return "not available" if self.device.type == "cuda" else "n/a (cpu)"
        if not self.samples:
            return "no sample ({})".format(self.method)
        return "{:.0f} % mean ({} samples, {})".format(float(np.mean(self.samples)), len(self.samples), self.method)
