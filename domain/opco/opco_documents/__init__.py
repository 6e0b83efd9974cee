"""Documents sent to an OPCO about a contract: conventions, certificats de réalisation (docs/wire.md "Documents")."""
