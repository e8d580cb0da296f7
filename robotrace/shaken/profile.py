"""The SHAKEN certificate profile as a set of named checks (certificate hygiene).

Rules from ATIS-1000080 (v003-v005) and the US SHAKEN Certificate Policy (1.1-1.4), as the
research brief summarises them. Finding ids reuse the lint names of the public zlint SHAKEN
lints and of the Martini compliance report, so our results can be compared with theirs line
by line; the checks themselves are our own code.

Two rule sets exist because the two sources disagree in places (and reuse some names):
- family "z": the zlint SHAKEN lints as of the CP 1.3 era (strict: P-256 and SHA-256 only,
  subject attributes limited to C/O/CN/serialNumber, ...);
- family "r": the compliance report's lints, which follow CP 1.4 (P-384 and SHA-384
  allowed for CAs that assert CP 1.4, cRLIssuer required only since CP 1.4, subject
  serialNumber required only under CP 1.3, and so on).
The verifier refuses a credential only on the few rules in verifier.leaf_profile_faults;
everything here is recorded as hygiene.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from robotrace.shaken.verifier import CP_1_1, CP_1_2, CP_1_3, CP_1_4, SHAKEN_POLICIES, TN_AUTH_LIST_OID, parse_tn_auth_list


@dataclass(frozen=True)
class Finding:
    lint_id: str
    severity: str  # error | warn
    detail: str
    family: str = "z"


ECDSA_SHA256 = SignatureAlgorithmOID.ECDSA_WITH_SHA256
ECDSA_SHA384 = SignatureAlgorithmOID.ECDSA_WITH_SHA384
LEAF_EXTS = {
    ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.CRL_DISTRIBUTION_POINTS, ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER, TN_AUTH_LIST_OID,
}
CA_EXTS = LEAF_EXTS - {TN_AUTH_LIST_OID}
ROOT_EXTS = {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER}
ZLINT_RDNS = {NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER, NameOID.LOCALITY_NAME}


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.Extension | None:
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def _attrs(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _policies(cert: x509.Certificate) -> list[str]:
    ext = _ext(cert, ExtensionOID.CERTIFICATE_POLICIES)
    return [p.policy_identifier.dotted_string for p in ext.value] if ext else []


def lint_certificate(cert: x509.Certificate, role: str, *, at: dt.datetime | None = None, family: str = "zr") -> list[Finding]:
    """role: leaf | intermediate | root. family: which rule sets to apply ("z", "r" or
    both). `at`: also check validity at that instant."""
    out: list[Finding] = []
    ca = role != "leaf"
    sfx = "_ca" if ca else ""
    Z, R = "z" in family, "r" in family

    def err(lint: str, detail: str, fam: str) -> None:
        if (fam == "z" and Z) or (fam == "r" and R):
            out.append(Finding(lint, "error", detail, fam))

    def warn(lint: str, detail: str, fam: str) -> None:
        if (fam == "z" and Z) or (fam == "r" and R):
            out.append(Finding(lint, "warn", detail, fam))

    try:
        exts = list(cert.extensions)
    except Exception as exc:  # noqa: BLE001 - malformed extensions in hostile certificates
        return [Finding("e_extensions_decode", "error", type(exc).__name__)]
    by_oid = {e.oid: e for e in exts}
    policies = _policies(cert)
    cp14 = CP_1_4 in policies
    cp13 = CP_1_3 in policies

    # Version and serial.
    if cert.version != x509.Version.v3:
        err("e_atis_ca_version" if ca else "e_atis_version", "not X.509 v3", "z")
        err("e_atis_version", "not X.509 v3", "r")
    serial = cert.serial_number
    if serial <= 0 or serial.bit_length() < 64:
        err("e_atis_ca_serial_number" if ca else "e_atis_serial_number", f"serial {serial} not positive with >= 64 bits", "z")
    if serial <= 0 or serial.bit_length() < 64:
        err(f"e_atis_serial_number_size{sfx}", "serial shorter than 64 bits", "r")

    # Signature algorithm and key.
    sig_oid = cert.signature_algorithm_oid
    if sig_oid != ECDSA_SHA256:
        err("e_atis_ca_signature_algorithm" if ca else "e_atis_signature_algorithm", f"signed with {sig_oid.dotted_string}", "z")
    # The report accepts ecdsa-with-SHA256/384 made by a P-256 or P-384 key; a P-384 ECDSA
    # signature is at most 104 DER bytes, so longer ones came from a bigger key.
    if sig_oid not in (ECDSA_SHA256, ECDSA_SHA384) or len(cert.signature) > 104:
        err(f"e_atis_signature_algorithm{sfx}", f"signed with {sig_oid.dotted_string} ({len(cert.signature)}-byte signature)", "r")
    if cp14:
        if sig_oid not in (ECDSA_SHA256, ECDSA_SHA384):
            err("e_cp_1_4_key_size", "CP 1.4 allows ecdsa-with-SHA256/384 only", "z")
    elif not ca and sig_oid != ECDSA_SHA256:
        err("e_cp_1_1_key_size", "CP 1.1-1.3 allow ecdsa-with-SHA256 only", "z")
    try:
        key = cert.public_key()
        curve = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else ""
    except Exception:  # noqa: BLE001
        curve = ""
    if curve != "secp256r1":
        err("e_atis_ca_subject_public_key" if ca else "e_atis_subject_public_key", f"key is not EC P-256 ({curve or 'not EC'})", "z")
        if ca and not (curve == "secp384r1" and cp14):
            err("e_atis_subject_public_key_ca", f"CA key is not P-256 (or P-384 under CP 1.4): {curve or 'not EC'}", "r")
        if not ca:
            err("e_atis_subject_public_key", "key is not EC P-256", "r")

    # Names.
    subject, issuer = cert.subject, cert.issuer
    for name, lint_leaf, lint_ca, label in ((subject, "e_atis_subject", "e_atis_ca_subject", "subject"), (issuer, "e_atis_issuer_dn", "e_atis_ca_issuer_dn", "issuer")):
        missing = [n for n, oid in (("C", NameOID.COUNTRY_NAME), ("O", NameOID.ORGANIZATION_NAME), ("CN", NameOID.COMMON_NAME)) if not _attrs(name, oid)]
        if missing:
            err(lint_ca if ca else lint_leaf, f"{label} lacks {missing}", "z")
            if label == "subject":
                err("e_atis_subject_dn_ca" if ca else "e_atis_subject_dn", f"subject lacks {missing}", "r")
    cns = _attrs(subject, NameOID.COMMON_NAME)
    cn = cns[0] if cns else ""
    if any(a.oid not in ZLINT_RDNS for a in subject):
        warn("w_shaken_ca_subject_rdn_unknown" if ca else "w_shaken_subject_rdn_unknown", "unexpected subject attributes", "z")
    if _attrs(subject, NameOID.EMAIL_ADDRESS) and not ca:
        warn("w_cp_1_3_subject_email", "email address in the subject", "z")

    # TNAuthList and the CN.
    tn_ext = by_oid.get(TN_AUTH_LIST_OID)
    spc = ""
    if not ca:
        if tn_ext is None:
            for fam in "zr":
                err("e_atis_tn_auth_list", "no TNAuthList", fam)
            err("e_atis_tn_auth_list_spc_format", "no SPC", "r")
        else:
            raw = tn_ext.value.value if isinstance(tn_ext.value, x509.UnrecognizedExtension) else b""
            try:
                entries = parse_tn_auth_list(raw)
            except (ValueError, UnicodeDecodeError):
                entries = None
            if entries is None or len(entries) != 1 or entries[0][0] != "spc" or not entries[0][1]:
                for fam in "zr":
                    err("e_atis_tn_auth_list", "TNAuthList must hold exactly one non-empty SPC", fam)
                err("e_atis_tn_auth_list_spc_format", "no decodable SPC", "r")
            else:
                spc = entries[0][1]
                if not re.fullmatch(r"[0-9][0-9A-Z]{3}|[0-9A-Z]{4}", spc):
                    err("e_atis_tn_auth_list_spc_format", f"SPC {spc!r} is not four upper-case letters/digits", "r")
        # zlint: the CN reads exactly "SHAKEN <SPC>".
        if not spc or cn != f"SHAKEN {spc}":
            err("e_atis_subject_cn", f"CN {cn!r} is not 'SHAKEN {spc or '<SPC>'}'", "z")
        # report: the CN names SHAKEN, and "SHAKEN <SPC>" appears in it as words.
        if "SHAKEN" not in cn:
            err("e_atis_subject_cn", f"CN {cn!r} does not contain SHAKEN", "r")
        if not spc or not re.search(r"(^|\s)SHAKEN " + re.escape(spc) + r"(\s|$)", cn):
            err("e_atis_subject_cn_spc", f"CN {cn!r} does not contain 'SHAKEN {spc or '<SPC>'}'", "r")
    else:
        if tn_ext is not None:
            err("e_atis_ca_extension_unknown" if role == "intermediate" else "e_atis_root_extension_unknown", "CA carries TNAuthList", "z")
        if "SHAKEN" not in cn.upper():
            err("e_atis_ca_subject_cn", "CA CN does not contain SHAKEN", "z")
        # The report wants the word SHAKEN ("STIRSHAKEN" does not count).
        if not re.search(r"\bSHAKEN\b", cn):
            err("e_atis_subject_cn_ca", "CA CN does not contain the word SHAKEN", "r")

    # Subject serialNumber: required (once) under CP 1.1-1.3, optional since CP 1.4.
    if not ca:
        sns = _attrs(subject, NameOID.SERIAL_NUMBER)
        if (not cp14 and len(sns) != 1) or len(sns) > 1:
            err("e_us_cp_subject_sn", f"{len(sns)} subject serialNumber attributes", "z")
        if cp13 and not sns:
            err("e_us_cp_subject_sn_shall", "CP 1.3 requires a subject serialNumber", "r")
        orgs = _attrs(subject, NameOID.ORGANIZATION_NAME)
        if len(orgs) != 1 or len(cns) > 1:
            err("e_us_cp_ambiguous_identifier", "the subject does not name one organisation", "z")

    # Basic constraints and key usage.
    bc = by_oid.get(ExtensionOID.BASIC_CONSTRAINTS)
    if bc is None or not bc.critical or bc.value.ca != ca:
        err("e_atis_ca_basic_constraints" if ca else "e_atis_basic_constraints", "basicConstraints missing, not critical or wrong cA", "z")
    if bc is None:
        err(f"e_atis_ext_basic_constraints{sfx}", "basicConstraints missing", "r")
    ku = by_oid.get(ExtensionOID.KEY_USAGE)
    if ku is None:
        err(f"e_atis_ext_key_usage{sfx}", "keyUsage missing", "r")
    if not ca:
        k = ku.value if ku is not None else None
        only_sign = k is not None and k.digital_signature and not any(
            [k.content_commitment, k.key_encipherment, k.data_encipherment, k.key_agreement, k.key_cert_sign, k.crl_sign]
        )
        if ku is None or not ku.critical or not only_sign:
            err("e_atis_key_usage", "leaf keyUsage must be critical and digitalSignature only", "z")
        if ku is not None and (not ku.critical or not only_sign):
            err("e_atis_ext_key_usage_ee", "leaf keyUsage must be critical and digitalSignature only", "r")
    else:
        if ku is None or not ku.critical:
            err("e_atis_ca_key_usage", "CA keyUsage missing or not critical", "z")
        else:
            k = ku.value
            if not k.key_cert_sign or any([k.content_commitment, k.key_encipherment, k.data_encipherment, k.key_agreement]):
                err("e_atis_ca_key_usage", "CA keyUsage needs keyCertSign, allows digitalSignature/cRLSign", "z")
            if k.crl_sign and role == "intermediate":
                err("e_us_cp_ca_key_usage_crl_sign", "cRLSign on a CA under the US CP", "z")

    # Certificate policies.
    cp = by_oid.get(ExtensionOID.CERTIFICATE_POLICIES)
    if role == "root":
        if cp is not None:
            err("e_atis_root_certificate_policies", "a root carries certificatePolicies", "z")
    else:
        lint = "e_atis_ca_certificate_policies" if ca else "e_atis_certificate_policies"
        if cp is None:
            err(lint, "no certificatePolicies", "z")
            err(f"e_atis_ext_certificate_policies{sfx}", "no certificatePolicies", "r")
            if not ca:
                err("e_shaken_certificate_policies_id", "no certificatePolicies", "r")
        else:
            if len(policies) != 1 or policies[0] not in SHAKEN_POLICIES:
                err(lint, f"policies {policies}: exactly one SHAKEN policy required", "z")
            if len(policies) != 1 or policies[0] not in (CP_1_3, CP_1_4):
                err(f"e_shaken_certificate_policies_id{sfx}", f"policies {policies}: exactly one of CP 1.3/1.4", "r")
            if cp.critical:
                warn("n_atis_ca_certificate_policy_critical" if ca else "n_atis_certificate_policy_critical", "certificatePolicies is critical", "z")
                err(f"e_atis_ext_certificate_policies{sfx}", "certificatePolicies is critical", "r")

    # CRL distribution points.
    dp = by_oid.get(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if role != "root":
        if dp is None:
            err("e_atis_ca_crl_distribution" if ca else "e_atis_crl_distribution", "no CRL distribution point", "z")
            err(f"e_atis_ext_crl_distribution{sfx}", "no CRL distribution point", "r")
        else:
            points = list(dp.value)
            names = [g for p in points for g in (p.full_name or [])]
            uris = [g.value for g in names if isinstance(g, x509.UniformResourceIdentifier)]
            if len(points) != 1 or len(names) != 1 or len(uris) != 1 or not uris[0].lower().startswith(("http://", "https://")):
                err("e_atis_ca_crl_distribution" if ca else "e_atis_crl_distribution", "exactly one HTTP(S) CRL distribution point required", "z")
            # The cRLIssuer DirectoryName became mandatory with CP 1.4 (ATIS-1000080 v005).
            if cp14 and (len(points) != 1 or not points[0].crl_issuer or not any(isinstance(g, x509.DirectoryName) for g in points[0].crl_issuer)):
                err(f"e_atis_ext_crl_distribution_struct{sfx}", "distribution point lacks the cRLIssuer directory name", "r")

    # Key identifiers.
    aki = by_oid.get(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    ski = by_oid.get(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    if role == "root":
        if aki is not None and ski is not None and aki.value.key_identifier not in (None, ski.value.digest):
            err("e_atis_root_authority_key_identifier", "root AKI differs from its SKI", "z")
    else:
        if aki is None:
            err("e_atis_ca_authority_key_identifier" if ca else "e_atis_authority_key_identifier", "no authorityKeyIdentifier", "z")
            err(f"e_atis_ext_authority_key_identifier{sfx}", "no authorityKeyIdentifier", "r")
            err("e_ext_authority_key_identifier_no_key_identifier", "no authority key identifier", "r")
            if ca:
                err("e_ext_authority_key_identifier_missing", "no authorityKeyIdentifier", "r")
        elif aki.value.key_identifier is None:
            err("e_ext_authority_key_identifier_no_key_identifier", "AKI without keyIdentifier", "r")
            err(f"e_atis_ext_authority_key_identifier{sfx}", "AKI without keyIdentifier", "r")
    if ski is None:
        if role != "root":
            err("e_atis_ca_subject_key_identifier" if ca else "e_atis_subject_key_identifier", "no subjectKeyIdentifier", "z")
        if not ca:
            err("e_atis_subject_key_identifier", "no subjectKeyIdentifier", "r")
            err("e_atis_subject_key_identifier_size", "no subjectKeyIdentifier", "r")
            warn("w_ext_subject_key_identifier_missing_sub_cert", "no subjectKeyIdentifier", "z")
            warn("w_ext_subject_key_identifier_missing_sub_cert", "no subjectKeyIdentifier", "r")

    # Nothing beyond the profile.
    allowed = ROOT_EXTS if role == "root" else (CA_EXTS if ca else LEAF_EXTS)
    odd_exts = [e.oid.dotted_string for e in exts if e.oid not in allowed and e.oid != TN_AUTH_LIST_OID]
    if odd_exts:
        lint = {"leaf": "e_atis_extension_unknown", "intermediate": "e_atis_ca_extension_unknown", "root": "e_atis_root_extension_unknown"}[role]
        err(lint, f"extensions beyond the profile: {odd_exts}", "z")

    if at is not None and not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
        out.append(Finding("e_validity", "error", "not valid at the evaluation time", "r"))
    # One finding per id.
    seen: dict[str, Finding] = {}
    for f in out:
        seen.setdefault(f.lint_id, f)
    return list(seen.values())


__all__ = ["Finding", "lint_certificate", "CP_1_1", "CP_1_2"]
