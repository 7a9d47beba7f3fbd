"""Edge runtimes: the streaming step of each torch / Keras model exported to ONNX Runtime and LiteRT, fp32 and int8."""
