"""tradepipe's offline research code: validation, training, tuning and ONNX export."""
