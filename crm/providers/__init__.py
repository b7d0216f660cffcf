"""SMS providers behind one small interface (``base.SmsProvider``), chosen by configuration.

``console`` (the embedded default) writes each message as a line to a file; ``aliyun``,
``tencent`` and ``twilio`` call those services through their official SDKs. Which module
holds which provider is plain data in ``registry``, resolved only when a provider is asked
for, so an app on the console provider never loads a cloud SDK.
"""
