"""TAXII 2.1 at /taxii2/: discovery, one API root, the requester's collections, their objects,
manifests and versions, POST of envelopes, and status resources.

Collections and their entries come from `intel.collections`, which filters through the access
layer on every request; paging is a signed keyset cursor (`paging`), so every page re-checks
the grants, and a share revoked between two pages is gone from the next one.
"""
