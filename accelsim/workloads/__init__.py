"""Real workloads: an EGRU language model on Penn Treebank, its pruning, and trace export.

- ``ptb``        : the PTB corpus loader (path from ``--ptb`` or ``ACCELSIM_PTB``), vocabulary, batching.
- ``egru_torch`` : the EGRU in PyTorch (training only; the optional ``train`` extra).
- ``train``      : ``python -m accelsim.workloads.train`` — train with checkpoints and resume.
- ``prune``      : ``python -m accelsim.workloads.prune`` — iterative magnitude pruning + fine-tuning.
- ``model_file`` : the exported model ``.npz`` (torch-free; float16 weights).
- ``infer``      : torch-free NumPy/Numba inference of the same equations; writes v1 traces.
- ``cli``        : ``accelsim trace egru`` (registered by the ``trace`` command group).

Modules that need torch import it themselves; ``ptb``, ``model_file``, ``infer`` and ``cli`` never do.
"""
