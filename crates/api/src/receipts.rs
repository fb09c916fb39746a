//! `ReceiptService`'s wire mapping: a bank account's registration as a command, an import's
//! and a resolution's requests read (every bad field at once), the review queue's request as a
//! read-model query, and the engine's candidates as replies. The statement file itself is read
//! by the server (`receivables-statements`), which knows the service's size limit.

use receivables_domain::account::bank_account::{RegisterBankAccount, check_registration};
use receivables_domain::account::receipt::{ExclusionReason, ReceiptPart, check_parts};
use receivables_domain::ids::{BankAccountId, BankLineId};
use receivables_domain::matching::{Candidate, Reason};
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CommandBody, CommandId, CustomerId, Money, Refusal};
use receivables_projections::receipt_queue::UnmatchedQuery;

use crate::commands::payment::{check_read_allocations, read_allocations};
use crate::commands::{Addressed, finish};
use crate::fields::{Fields, optional};
use crate::queries::{page_size, paged};
use crate::{pb, responses};

/// A `RegisterBankAccount` request as a command to the bank account's stream.
pub fn read_registration(request: &pb::RegisterBankAccountRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let account = bank_account(&mut fields, &request.bank_account_id);
    let subsidiary = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let currency = fields.check(
        "currency",
        receivables_domain::Currency::parse(&request.currency),
    );
    let mut rules = Vec::new();
    check_registration(&mut rules, &request.number, &request.bank, &request.name);
    fields.extend(rules);
    let stream = account.as_ref().map(CustomerId::bank_account);
    let body = (|| {
        Some(CommandBody::RegisterBankAccount(RegisterBankAccount {
            subsidiary_id: subsidiary?,
            currency: currency?,
            number: request.number.clone(),
            bank: request.bank.clone(),
            name: request.name.clone(),
        }))
    })();
    finish(fields, stream, id, body)
}

/// The reply to a registration.
pub fn registration_reply(
    event: &receivables_domain::RecordedEvent,
    replayed: bool,
) -> Option<pb::RegisterBankAccountResponse> {
    let receivables_domain::Event::BankAccountRegistered(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::RegisterBankAccountResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}

fn bank_account(fields: &mut Fields, value: &str) -> Option<BankAccountId> {
    if !fields.required("bank_account_id", value) {
        return None;
    }
    fields.check("bank_account_id", BankAccountId::parse(value))
}

/// What an import asks for, its file not yet read.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub bank_account: BankAccountId,
    pub format: ImportFormat,
    pub skip_matching: bool,
}

/// The file's format as the request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportFormat {
    Camt053,
    Mt940,
    /// A preset's name, or a layout as JSON.
    CsvPreset(String),
    CsvLayout(String),
}

/// Reads an `ImportStatement` request but its content.
pub fn read_import(request: &pb::ImportStatementRequest) -> Result<ImportRequest, Refusal> {
    let mut fields = Fields::default();
    let account = bank_account(&mut fields, &request.bank_account_id);
    let preset = optional(&request.csv_preset);
    let layout = optional(&request.csv_layout_json);
    let format = match pb::StatementFormat::try_from(request.format) {
        Ok(pb::StatementFormat::Camt053) => Some(ImportFormat::Camt053),
        Ok(pb::StatementFormat::Mt940) => Some(ImportFormat::Mt940),
        Ok(pb::StatementFormat::Csv) => match (preset, layout) {
            (Some(preset), None) => Some(ImportFormat::CsvPreset(preset.to_owned())),
            (None, Some(layout)) => Some(ImportFormat::CsvLayout(layout.to_owned())),
            (None, None) => {
                fields.violation(
                    "csv_preset",
                    "a CSV statement needs a preset (alipay, wechat-pay, cn-bank) or \
                     csv_layout_json",
                );
                None
            }
            (Some(_), Some(_)) => {
                fields.violation("csv_layout_json", "give a preset or a layout, not both");
                None
            }
        },
        Ok(pb::StatementFormat::Unspecified) | Err(_) => {
            fields.violation("format", "is required: CAMT053, MT940 or CSV");
            None
        }
    };
    if request.content.is_empty() {
        fields.violation("content", "is required: the statement file's bytes");
    }
    match (account, format) {
        (Some(bank_account), Some(format)) if fields.is_clean() => Ok(ImportRequest {
            bank_account,
            format,
            skip_matching: request.skip_matching,
        }),
        _ => Err(Refusal::invalid(fields.violations)),
    }
}

/// A person's decision on a waiting line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub id: CommandId,
    pub bank_account: BankAccountId,
    pub line_id: BankLineId,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Parts(Vec<ReceiptPart>),
    Exclude {
        reason: ExclusionReason,
        note: String,
    },
}

/// Reads a `ResolveReceipt` request; every bad field at once.
pub fn read_resolution(request: &pb::ResolveReceiptRequest) -> Result<Resolution, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let account = bank_account(&mut fields, &request.bank_account_id);
    let line_id = fields
        .required("line_id", &request.line_id)
        .then(|| fields.check("line_id", BankLineId::parse(&request.line_id)))
        .flatten();
    let reason = match pb::ExclusionReason::try_from(request.exclusion_reason) {
        Ok(pb::ExclusionReason::Unspecified) => None,
        Ok(pb::ExclusionReason::SupplierRefund) => Some(ExclusionReason::SupplierRefund),
        Ok(pb::ExclusionReason::Interest) => Some(ExclusionReason::Interest),
        Ok(pb::ExclusionReason::InternalTransfer) => Some(ExclusionReason::InternalTransfer),
        Ok(pb::ExclusionReason::Other) => Some(ExclusionReason::Other),
        Err(_) => {
            fields.violation("exclusion_reason", "is not a known reason");
            None
        }
    };
    let decision = match (request.parts.is_empty(), reason) {
        (false, None) => read_parts(&mut fields, &request.parts).map(Decision::Parts),
        (true, Some(reason)) => {
            if reason == ExclusionReason::Other && request.note.trim().is_empty() {
                fields.violation("note", "is required when the reason is OTHER");
            }
            Some(Decision::Exclude {
                reason,
                note: request.note.clone(),
            })
        }
        (false, Some(_)) => {
            fields.violation(
                "exclusion_reason",
                "give the parts or an exclusion reason, not both",
            );
            None
        }
        (true, None) => {
            fields.violation(
                "parts",
                "give the parts (accept, split, on account) or an exclusion reason",
            );
            None
        }
    };
    match (id, account, line_id, decision) {
        (Some(id), Some(bank_account), Some(line_id), Some(decision)) if fields.is_clean() => {
            Ok(Resolution {
                id,
                bank_account,
                line_id,
                decision,
            })
        }
        _ => Err(Refusal::invalid(fields.violations)),
    }
}

fn read_parts(fields: &mut Fields, parts: &[pb::ReceiptPart]) -> Option<Vec<ReceiptPart>> {
    let mut read = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let path = |name: &str| format!("parts[{index}].{name}");
        let customer = fields.customer_id(&path("customer_id"), &part.customer_id);
        let amount = fields.money(&path("amount"), part.amount.as_ref());
        let mut inner = Fields::default();
        let allocations = read_allocations(&mut inner, &part.allocations);
        let mut credit = Fields::default();
        let credit_applications = read_allocations(&mut credit, &part.credit_applications);
        for violation in credit.violations {
            // Read as allocations: named as what they are.
            let field = violation
                .field
                .replacen("allocations", "credit_applications", 1);
            inner.violation(field, violation.description);
        }
        let mut rules = Vec::new();
        check_read_allocations(
            &mut rules,
            "part",
            amount,
            &allocations,
            part.allocations.len(),
        );
        inner.extend(rules);
        for violation in inner.violations {
            fields.violation(path(&violation.field), violation.description);
        }
        read.push((|| {
            Some(ReceiptPart {
                customer_id: customer?,
                amount: amount?,
                allocations: allocations.into_iter().collect::<Option<Vec<_>>>()?,
                on_account: part.on_account,
                credit_applications: credit_applications
                    .into_iter()
                    .collect::<Option<Vec<_>>>()?,
            })
        })());
    }
    let read: Vec<ReceiptPart> = read.into_iter().collect::<Option<_>>()?;
    let mut rules = Vec::new();
    check_parts(&mut rules, &read);
    fields.extend(rules);
    Some(read)
}

/// Reads a `ListUnmatchedReceipts` request; every bad field at once.
pub fn read_unmatched(
    message: &pb::ListUnmatchedReceiptsRequest,
) -> Result<UnmatchedQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let account = fields.optional(
        "bank_account_id",
        &message.bank_account_id,
        BankAccountId::parse,
    );
    let subsidiary = fields.optional(
        "subsidiary_id",
        &message.subsidiary_id,
        receivables_domain::SubsidiaryId::parse,
    );
    let line = fields.optional("line_id", &message.line_id, BankLineId::parse);
    let size = page_size(&mut fields, message.page_size);
    let (Some(account), Some(subsidiary), Some(line), Some(size)) =
        (account, subsidiary, line, size)
    else {
        return Err(fields.violations);
    };
    let mut query = UnmatchedQuery::default();
    query.bank_account = account.map(String::from);
    query.subsidiary = subsidiary.map(String::from);
    query.line = line.map(String::from);
    match paged(&mut fields, query, Some(size), &message.page_token) {
        Some(query) if fields.is_clean() => Ok(query),
        _ => Err(fields.violations),
    }
}

/// A stable code of an engine's reason, for machines.
pub fn reason_code(reason: &Reason) -> &'static str {
    match reason {
        Reason::ReferenceNamesDocument { .. } => "REFERENCE_NAMES_DOCUMENT",
        Reason::AmbiguousReference => "AMBIGUOUS_REFERENCE",
        Reason::CreditNoteNamed { .. } => "CREDIT_NOTE_NAMED",
        Reason::AmountEqualsOpen { .. } => "AMOUNT_EQUALS_OPEN",
        Reason::AmountEqualsRow { .. } => "AMOUNT_EQUALS_ROW",
        Reason::AmountEqualsSet { .. } => "AMOUNT_EQUALS_SET",
        Reason::NetOfCreditNote { .. } => "NET_OF_CREDIT_NOTE",
        Reason::PartialPayment { .. } => "PARTIAL_PAYMENT",
        Reason::OverPayment { .. } => "OVER_PAYMENT",
        Reason::NamedNotPaid { .. } => "NAMED_NOT_PAID",
        Reason::AmbiguousAmount => "AMBIGUOUS_AMOUNT",
        Reason::PayerAccountKnown { .. } => "PAYER_ACCOUNT_KNOWN",
        Reason::PayerNameKnown { .. } => "PAYER_NAME_KNOWN",
        Reason::PayerNameResembles { .. } => "PAYER_NAME_RESEMBLES",
        Reason::UsualPattern { .. } => "USUAL_PATTERN",
    }
}

/// A candidate as the wire shows it, with the customer's name when registered.
pub fn candidate(candidate: &Candidate, name: Option<&str>) -> pb::ReceiptCandidate {
    let allocations = |allocations: &[receivables_domain::matching::Allocation]| {
        allocations
            .iter()
            .map(|a| pb::Allocation {
                invoice: Some(pb::InvoiceRef {
                    subsidiary_id: a.subsidiary.to_string(),
                    invoice_number: a.number.clone(),
                }),
                amount: Some(responses::money(a.amount)),
            })
            .collect()
    };
    pb::ReceiptCandidate {
        customer_id: candidate.customer.to_string(),
        customer_name: name.unwrap_or_default().to_owned(),
        confidence: u32::from(candidate.confidence.percent()),
        allocations: allocations(&candidate.allocations),
        credit_applications: allocations(&candidate.credit_applications),
        on_account: Some(responses::money(candidate.on_account)),
        reasons: candidate.reasons.iter().map(Reason::describe).collect(),
        reason_codes: candidate
            .reasons
            .iter()
            .map(|r| reason_code(r).to_owned())
            .collect(),
    }
}

/// A statement line's amount on the wire.
pub fn money(amount: Money) -> pb::Money {
    responses::money(amount)
}
