"""Keras 3 models on the TensorFlow backend."""
