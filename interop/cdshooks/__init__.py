"""CDS Hooks 2.0 models, the Da Vinci CRD coverage-information extension, client JWT
verification and the draft-order mapping (see the README's "CDS Hooks / CRD" section)."""
