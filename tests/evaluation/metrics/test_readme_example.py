"""The "Metrics on your own arrays" example of the documentation (docs/metrics/on-arrays.md) runs as printed."""
import os
import re
import subprocess
import sys

PAGE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "metrics", "on-arrays.md")


def test_metrics_on_arrays_example_runs():
    text = open(PAGE, encoding="utf-8").read()
    example = re.search(r"<!-- metrics-on-arrays-example -->\s*```python\n(.*?)```", text, re.DOTALL).group(1)
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, DTL_NUM_JOBS="1"))
    assert result.returncode == 0, result.stderr
    assert "discrete_mig" in result.stdout and "lasso_disentanglement" in result.stdout
