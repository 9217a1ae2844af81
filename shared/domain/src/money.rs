//! Money in minor units (cents) with an ISO 4217 currency.
//!
//! Amounts are integers so totals never suffer floating-point drift, and every
//! addition is checked: a total that would overflow is an error, not a wrap.

use std::fmt;

/// Active ISO 4217 alphabetic codes (list one, 2024 edition), sorted for binary search.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be an ISO 4217 currency code such as EUR or USD")]
    UnknownCurrency,
    #[error("the total is too large to represent")]
    Overflow,
    #[error("cannot add amounts in different currencies")]
    CurrencyMismatch,
}

/// An ISO 4217 alphabetic currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let index = ISO_4217.binary_search(&text).map_err(|_| MoneyError::UnknownCurrency)?;
        let code = ISO_4217[index].as_bytes();
        Ok(Self([code[0], code[1], code[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only built from the ASCII table above.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount in the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cents(pub u64);

/// An amount with its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub cents: Cents,
    pub currency: Currency,
}

impl Money {
    pub fn zero(currency: Currency) -> Self {
        Self {
            cents: Cents(0),
            currency,
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let cents = self.cents.0.checked_add(other.cents.0).ok_or(MoneyError::Overflow)?;
        Ok(Money {
            cents: Cents(cents),
            currency: self.currency,
        })
    }

    /// Sums prices in one currency.
    pub fn sum(currency: Currency, prices: impl IntoIterator<Item = Cents>) -> Result<Money, MoneyError> {
        prices.into_iter().try_fold(Money::zero(currency), |total, cents| {
            total.checked_add(Money { cents, currency })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn the_currency_table_is_sorted_so_lookups_find_every_code() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
        for code in ISO_4217 {
            assert_eq!(Currency::parse(code).map(|c| c.to_string()), Ok((*code).to_owned()));
        }
    }

    #[test]
    fn lowercase_or_invented_currency_codes_are_rejected() {
        for bad in ["eur", "EURO", "ABC", "", "E€"] {
            assert_eq!(Currency::parse(bad), Err(MoneyError::UnknownCurrency), "{bad}");
        }
    }

    #[test]
    fn a_sum_of_prices_adds_their_cents() {
        let total = Money::sum(eur(), [Cents(1250), Cents(0), Cents(750)]);
        assert_eq!(total.map(|m| m.cents), Ok(Cents(2000)));
    }

    #[test]
    fn a_total_that_would_overflow_is_an_error_not_a_wrap() {
        assert_eq!(
            Money::sum(eur(), [Cents(u64::MAX), Cents(1)]),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn amounts_in_different_currencies_cannot_be_added() {
        let usd = Currency::parse("USD").unwrap();
        let result = Money::zero(eur()).checked_add(Money::zero(usd));
        assert_eq!(result, Err(MoneyError::CurrencyMismatch));
    }
}
