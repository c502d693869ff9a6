"""The admin-port guard as an AWS Config custom rule.

``construct`` holds the CDK constructs (``AdminPortGuardConfigRule``, exported from ``constructs_lib``, and
``AdminPortGuardMemberRole``); ``handler`` is the Lambda function, plain Python with boto3 and the policy
core only; ``asset`` builds the function's code directory at synth time. Nothing is imported here, so the
handler never loads ``aws_cdk``.
"""
