"""The SHAKEN certificate profile as a set of named checks (certificate hygiene).

Rules from ATIS-1000080 (v003-v005) and the US SHAKEN Certificate Policy (1.1-1.4), as the
research brief summarises them. Finding ids reuse the lint names of the public zlint SHAKEN
lints and the Martini compliance report, so our results can be compared with theirs line by
line; the checks themselves are our own code. The verifier refuses a credential only on the
few rules in verifier.leaf_profile_faults; everything here is recorded as hygiene.
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


ECDSA_SHA256 = SignatureAlgorithmOID.ECDSA_WITH_SHA256
ECDSA_SHA384 = SignatureAlgorithmOID.ECDSA_WITH_SHA384
LEAF_EXTS = {
    ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.CRL_DISTRIBUTION_POINTS, ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER, TN_AUTH_LIST_OID,
}
CA_EXTS = LEAF_EXTS - {TN_AUTH_LIST_OID}
ROOT_EXTS = {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER}
KNOWN_RDNS = {NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER, NameOID.LOCALITY_NAME, NameOID.STATE_OR_PROVINCE_NAME}


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


def lint_certificate(cert: x509.Certificate, role: str, *, at: dt.datetime | None = None) -> list[Finding]:
    """role: leaf | intermediate | root. `at`: also check validity at that instant."""
    out: list[Finding] = []
    ca = role != "leaf"
    sfx = "_ca" if ca else ""

    def err(lint: str, detail: str) -> None:
        out.append(Finding(lint, "error", detail))

    def warn(lint: str, detail: str) -> None:
        out.append(Finding(lint, "warn", detail))

    try:
        exts = list(cert.extensions)
    except Exception as exc:  # noqa: BLE001 - malformed extensions in hostile certificates
        return [Finding("e_extensions_decode", "error", type(exc).__name__)]
    by_oid = {e.oid: e for e in exts}

    # Version and serial.
    if cert.version != x509.Version.v3:
        err("e_atis_ca_version" if ca else "e_atis_version", "not X.509 v3")
    serial = cert.serial_number
    if serial <= 0 or serial.bit_length() < 64:
        err("e_atis_ca_serial_number" if ca else "e_atis_serial_number", f"serial {serial} not positive with >= 64 bits")
        err(f"e_atis_serial_number_size{sfx}", "serial shorter than 64 bits")
    elif serial.bit_length() > 160:
        err(f"e_atis_serial_number_size{sfx}", "serial longer than 20 octets")

    # Signature algorithm and key.
    sig_oid = cert.signature_algorithm_oid
    if sig_oid != ECDSA_SHA256:
        err("e_atis_ca_signature_algorithm" if ca else "e_atis_signature_algorithm", f"signed with {sig_oid.dotted_string}")
        err(f"e_atis_signature_algorithm{sfx}", f"signed with {sig_oid.dotted_string}") if ca else None
    policies = _policies(cert)
    if CP_1_4 in policies:
        if sig_oid not in (ECDSA_SHA256, ECDSA_SHA384):
            err("e_cp_1_4_key_size", "CP 1.4 allows ecdsa-with-SHA256/384 only")
    elif not ca and sig_oid != ECDSA_SHA256:
        err("e_cp_1_1_key_size", "CP 1.1-1.3 allow ecdsa-with-SHA256 only")
    try:
        key = cert.public_key()
        p256 = isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    except Exception:  # noqa: BLE001
        p256 = False
    if not p256:
        err("e_atis_ca_subject_public_key" if ca else "e_atis_subject_public_key", "key is not EC P-256")
        if ca:
            err("e_atis_subject_public_key_ca", "key is not EC P-256")

    # Names.
    subject, issuer = cert.subject, cert.issuer
    for name, lint_leaf, lint_ca, label in ((subject, "e_atis_subject", "e_atis_ca_subject", "subject"), (issuer, "e_atis_issuer_dn", "e_atis_ca_issuer_dn", "issuer")):
        missing = [n for n, oid in (("C", NameOID.COUNTRY_NAME), ("O", NameOID.ORGANIZATION_NAME), ("CN", NameOID.COMMON_NAME)) if not _attrs(name, oid)]
        if missing:
            err(lint_ca if ca else lint_leaf, f"{label} lacks {missing}")
            if ca and label == "subject":
                err("e_atis_subject_dn_ca", f"subject lacks {missing}")
    cns = _attrs(subject, NameOID.COMMON_NAME)
    cn = cns[0] if cns else ""
    extra_rdns = [a.oid for a in subject if a.oid not in KNOWN_RDNS]
    if extra_rdns:
        warn("w_shaken_ca_subject_rdn_unknown" if ca else "w_shaken_subject_rdn_unknown", "unexpected subject attributes")
    if _attrs(subject, NameOID.EMAIL_ADDRESS) and not ca:
        warn("w_cp_1_3_subject_email", "email address in the subject")

    # TNAuthList and the CN.
    tn_ext = by_oid.get(TN_AUTH_LIST_OID)
    spc = ""
    if not ca:
        if tn_ext is None:
            err("e_atis_tn_auth_list", "no TNAuthList")
        else:
            raw = tn_ext.value.value if isinstance(tn_ext.value, x509.UnrecognizedExtension) else b""
            try:
                entries = parse_tn_auth_list(raw)
            except (ValueError, UnicodeDecodeError):
                err("e_atis_tn_auth_list", "TNAuthList does not decode")
                err("e_atis_tn_auth_list_spc_format", "TNAuthList does not decode")
            else:
                if len(entries) != 1 or entries[0][0] != "spc" or not entries[0][1]:
                    err("e_atis_tn_auth_list", f"TNAuthList entries {[k for k, _ in entries]} (one non-empty SPC required)")
                else:
                    spc = entries[0][1]
                    if not re.fullmatch(r"[A-Z0-9]{4}", spc):
                        err("e_atis_tn_auth_list_spc_format", f"SPC {spc!r} is not four upper-case letters/digits")
        if not cn or "SHAKEN" not in cn:
            err("e_atis_subject_cn", "CN does not contain SHAKEN")
            if spc or tn_ext is None:
                err("e_atis_subject_cn_spc", "CN is not 'SHAKEN <SPC>'")
        elif not spc or cn != f"SHAKEN {spc}":
            if spc and not re.search(r"(^|\s)SHAKEN\s+" + re.escape(spc) + r"(\s|$)", cn):
                err("e_atis_subject_cn", f"CN {cn!r} does not read 'SHAKEN {spc}'")
            err("e_atis_subject_cn_spc", f"CN {cn!r} is not 'SHAKEN {spc or '<SPC>'}'")
    else:
        if tn_ext is not None:
            err("e_atis_ca_extension_unknown" if role == "intermediate" else "e_atis_root_extension_unknown", "CA carries TNAuthList")
        if not cn or "SHAKEN" not in cn.upper():
            err("e_atis_ca_subject_cn", "CA CN does not contain SHAKEN")
            err("e_atis_subject_cn_ca", "CA CN does not contain SHAKEN")

    # Subject serialNumber: required (once) under CP 1.1-1.3, optional since CP 1.4.
    if not ca:
        sns = _attrs(subject, NameOID.SERIAL_NUMBER)
        older = any(p in policies for p in (CP_1_1, CP_1_2, CP_1_3))
        if older and len(sns) != 1:
            err("e_us_cp_subject_sn", f"{len(sns)} subject serialNumber attributes under CP <= 1.3")
        if len(sns) > 1:
            err("e_us_cp_subject_sn", "several subject serialNumber attributes")
        orgs = _attrs(subject, NameOID.ORGANIZATION_NAME)
        if len(orgs) > 1 or len(cns) > 1:
            err("e_us_cp_ambiguous_identifier", "several O or CN attributes")

    # Basic constraints and key usage.
    bc = by_oid.get(ExtensionOID.BASIC_CONSTRAINTS)
    if bc is None or not bc.critical:
        err("e_atis_basic_constraints" if not ca else "e_atis_ca_basic_constraints", "basicConstraints missing or not critical")
        if bc is None:
            err(f"e_atis_ext_basic_constraints{sfx}", "basicConstraints missing")
    elif bc.value.ca != ca:
        err("e_atis_basic_constraints" if not ca else "e_atis_ca_basic_constraints", f"cA={bc.value.ca} on a {role}")
    ku = by_oid.get(ExtensionOID.KEY_USAGE)
    if not ca:
        if ku is None or not ku.critical:
            err("e_atis_key_usage", "keyUsage missing or not critical")
            if ku is None:
                err("e_atis_ext_key_usage", "keyUsage missing")
        else:
            k = ku.value
            others = [k.content_commitment, k.key_encipherment, k.data_encipherment, k.key_agreement, k.key_cert_sign, k.crl_sign]
            if not k.digital_signature or any(others):
                err("e_atis_key_usage", "leaf keyUsage must be digitalSignature only")
                err("e_atis_ext_key_usage_ee", "leaf keyUsage must be digitalSignature only")
    else:
        if ku is None or not ku.critical:
            err("e_atis_ca_key_usage", "CA keyUsage missing or not critical")
        else:
            k = ku.value
            odd = [k.content_commitment, k.key_encipherment, k.data_encipherment, k.key_agreement]
            if not k.key_cert_sign or any(odd):
                err("e_atis_ca_key_usage", "CA keyUsage needs keyCertSign, allows digitalSignature/cRLSign")
            if k.crl_sign and role == "intermediate":
                err("e_us_cp_ca_key_usage_crl_sign", "cRLSign on a CA under the US CP")

    # Certificate policies.
    cp = by_oid.get(ExtensionOID.CERTIFICATE_POLICIES)
    if role == "root":
        if cp is not None:
            err("e_atis_root_certificate_policies", "a root carries certificatePolicies")
    else:
        lint = "e_atis_ca_certificate_policies" if ca else "e_atis_certificate_policies"
        if cp is None:
            err(lint, "no certificatePolicies")
            err(f"e_atis_ext_certificate_policies{sfx}", "no certificatePolicies")
        else:
            shaken = [p for p in policies if p in SHAKEN_POLICIES]
            if len(policies) != 1 or not shaken:
                err(lint, f"policies {policies}: exactly one SHAKEN policy required")
            if not any(p in (CP_1_3, CP_1_4) for p in policies) or len(policies) != 1:
                err(f"e_shaken_certificate_policies_id{sfx}", f"policies {policies}: exactly one of CP 1.3/1.4")
            if cp.critical:
                out.append(Finding("n_atis_ca_certificate_policy_critical" if ca else "n_atis_certificate_policy_critical", "warn", "certificatePolicies is critical"))
                err(f"e_atis_ext_certificate_policies{sfx}", "certificatePolicies is critical")

    # CRL distribution points.
    dp = by_oid.get(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if role != "root":
        if dp is None:
            err("e_atis_ca_crl_distribution" if ca else "e_atis_crl_distribution", "no CRL distribution point")
            err(f"e_atis_ext_crl_distribution{sfx}", "no CRL distribution point")
        else:
            points = list(dp.value)
            uris = [g.value for p in points for g in (p.full_name or []) if isinstance(g, x509.UniformResourceIdentifier)]
            if len(points) != 1 or not uris or not all(u.lower().startswith(("http://", "https://")) for u in uris):
                err("e_atis_ca_crl_distribution" if ca else "e_atis_crl_distribution", "exactly one HTTP(S) CRL distribution point required")
            if len(points) != 1 or not points[0].crl_issuer or not any(isinstance(g, x509.DirectoryName) for g in points[0].crl_issuer):
                err(f"e_atis_ext_crl_distribution_struct{sfx}", "distribution point lacks the cRLIssuer directory name")

    # Key identifiers.
    aki = by_oid.get(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    ski = by_oid.get(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    if role == "root":
        if aki is not None and ski is not None and aki.value.key_identifier not in (None, ski.value.digest):
            err("e_atis_root_authority_key_identifier", "root AKI differs from its SKI")
    else:
        if aki is None:
            err("e_atis_ca_authority_key_identifier" if ca else "e_atis_authority_key_identifier", "no authorityKeyIdentifier")
            err(f"e_atis_ext_authority_key_identifier{sfx}", "no authorityKeyIdentifier")
            err("e_ext_authority_key_identifier_missing", "no authorityKeyIdentifier")
        elif aki.value.key_identifier is None:
            err("e_ext_authority_key_identifier_no_key_identifier", "AKI without keyIdentifier")
            err(f"e_atis_ext_authority_key_identifier{sfx}", "AKI without keyIdentifier")
    if ski is None:
        if role != "root":
            err("e_atis_ca_subject_key_identifier" if ca else "e_atis_subject_key_identifier", "no subjectKeyIdentifier")
        if not ca:
            warn("w_ext_subject_key_identifier_missing_sub_cert", "no subjectKeyIdentifier")

    # Nothing beyond the profile.
    allowed = ROOT_EXTS if role == "root" else (CA_EXTS if ca else LEAF_EXTS)
    odd_exts = [e.oid.dotted_string for e in exts if e.oid not in allowed and e.oid != TN_AUTH_LIST_OID]
    if odd_exts:
        lint = {"leaf": "e_atis_extension_unknown", "intermediate": "e_atis_ca_extension_unknown", "root": "e_atis_root_extension_unknown"}[role]
        err(lint, f"extensions beyond the profile: {odd_exts}")

    if at is not None and not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
        err("e_validity", "not valid at the evaluation time")
    # One finding per id.
    seen: dict[str, Finding] = {}
    for f in out:
        seen.setdefault(f.lint_id, f)
    return list(seen.values())
