"""synthlib: synthetic images from GANs to repair class imbalance, measured honestly."""
import os

# Keep TensorFlow's start-up chatter out of notebooks and reports.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
