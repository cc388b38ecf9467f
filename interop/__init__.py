"""Interoperability: FHIR R4 and CDS Hooks models and their mappings to our contract."""
