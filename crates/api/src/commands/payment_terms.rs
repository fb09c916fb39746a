//! `DefinePaymentTerms`: a named payment-terms template of the group, addressed to the group's
//! own account.

use receivables_domain::command::DefinePaymentTerms;
use receivables_domain::ids::TermsCode;
use receivables_domain::terms::{DueRule, PaymentTerms, TermsLine};
use receivables_domain::{CommandBody, CustomerId, Event, RecordedEvent, Refusal};
use rust_decimal::Decimal;

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// One line of terms, or `None` with its bad fields named under `path`.
fn line(fields: &mut Fields, path: &str, line: &pb::TermsLine) -> Option<TermsLine> {
    let portion = fields.check(
        &format!("{path}.portion"),
        line.portion.trim().parse::<Decimal>(),
    );
    let due = match line.due {
        None => {
            fields.violation(
                format!("{path}.due"),
                "one of net_days, days_after_month_end or day_of_next_month is required",
            );
            None
        }
        Some(pb::terms_line::Due::NetDays(days)) => Some(DueRule::NetDays(days)),
        Some(pb::terms_line::Due::DaysAfterMonthEnd(days)) => {
            Some(DueRule::DaysAfterMonthEnd(days))
        }
        Some(pb::terms_line::Due::DayOfNextMonth(day)) => Some(DueRule::DayOfNextMonth(day)),
    };
    Some(TermsLine {
        portion: portion?,
        due: due?,
    })
}

/// The request as a command to the group's account, or a refusal naming every bad field.
pub fn read(request: &pb::DefinePaymentTermsRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let code = fields.check("code", TermsCode::parse(&request.code));
    let lines: Vec<Option<TermsLine>> = request
        .lines
        .iter()
        .enumerate()
        .map(|(index, l)| line(&mut fields, &format!("terms.lines[{index}]"), l))
        .collect();
    let discount = match &request.discount {
        None => Some(None),
        Some(discount) => fields.discount("terms.discount", discount).map(Some),
    };
    let body = (|| {
        Some(CommandBody::DefinePaymentTerms(DefinePaymentTerms {
            code: code?,
            description: request.description.clone(),
            terms: PaymentTerms {
                lines: lines.into_iter().collect::<Option<Vec<_>>>()?,
                discount: discount?,
            },
        }))
    })();
    finish(fields, Some(CustomerId::group()), id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::DefinePaymentTermsResponse> {
    let Event::PaymentTermsDefined(defined) = &event.envelope.event else {
        return None;
    };
    Some(pb::DefinePaymentTermsResponse {
        receipt: Some(responses::receipt(event, replayed)),
        replaced: defined.replaced,
    })
}
