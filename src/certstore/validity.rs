//! Certificate validity dates.

use std::cmp::Ordering;

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::X509Ref;

use super::summary::{one_line, time_text};
use super::CertStoreError;

/// Checks that now lies within `cert`'s validity (notBefore ≤ now ≤ notAfter).
///
/// With `allow_invalid_dates` the check always passes: use it for test certificates or when the
/// clock is known to be wrong. Otherwise an expired certificate gives
/// [`CertStoreError::Expired`] and a future one [`CertStoreError::NotYetValid`]; both messages
/// give the dates and name the opt-out. Times come from
/// [ASN1_TIME_compare(3)](https://docs.openssl.org/3.0/man3/ASN1_TIME_set/).
pub fn check_validity(cert: &X509Ref, allow_invalid_dates: bool) -> Result<(), CertStoreError> {
    if allow_invalid_dates {
        return Ok(());
    }
    let now = Asn1Time::days_from_now(0).map_err(|source| CertStoreError::Inspect {
        what: "read the current time".to_owned(),
        source: source.into(),
    })?;
    check_validity_at(cert, &now, false)
}

/// [`check_validity`] against a given time instead of the clock.
pub fn check_validity_at(
    cert: &X509Ref,
    now: &Asn1TimeRef,
    allow_invalid_dates: bool,
) -> Result<(), CertStoreError> {
    if allow_invalid_dates {
        return Ok(());
    }
    let compare = |time: &Asn1TimeRef| {
        now.compare(time).map_err(|source| CertStoreError::Inspect {
            what: format!(
                "compare the validity dates of certificate {} with now",
                one_line(cert.subject_name())
            ),
            source: source.into(),
        })
    };
    let too_early = compare(cert.not_before())? == Ordering::Less;
    let too_late = compare(cert.not_after())? == Ordering::Greater;
    let subject = || one_line(cert.subject_name());
    let not_before = time_text(cert.not_before());
    let not_after = time_text(cert.not_after());
    let now = time_text(now);
    if too_late {
        Err(CertStoreError::Expired {
            subject: subject(),
            not_before,
            not_after,
            now,
        })
    } else if too_early {
        Err(CertStoreError::NotYetValid {
            subject: subject(),
            not_before,
            not_after,
            now,
        })
    } else {
        Ok(())
    }
}
