//! `fengqiao account add|grant|disable|enable|token`.

use std::io::BufRead;

use fq_engine::{Engine, NewAccount};
use uuid::Uuid;

use crate::args::AccountCommand;
use crate::commands::cli_actor;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

/// Parses `ROLE:REGION` or `ROLE:REGION:ORG_ID`.
fn parse_grant(text: &str) -> Result<(String, String, Option<Uuid>), Failure> {
    let bad = || Failure::new("grant_invalid", format!("grant {text:?} is not ROLE:REGION or ROLE:REGION:ORG_ID"));
    let mut parts = text.splitn(3, ':');
    let role = parts.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
    let region = parts.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
    let org = parts.next().map(|o| Uuid::parse_str(o).map_err(|_| bad())).transpose()?;
    Ok((role.to_owned(), region.to_owned(), org))
}

pub async fn run(config: &Config, command: AccountCommand) -> Outcome {
    open::with_engine(config, |engine| async move { account(&engine, command).await }).await
}

async fn account(engine: &Engine, command: AccountCommand) -> Outcome {
    let actor = cli_actor();
    match command {
        AccountCommand::Add { login, name, org, grants, password_stdin } => {
            let grants = grants.iter().map(|g| parse_grant(g)).collect::<Result<Vec<_>, _>>()?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let (account, seq) =
                engine.create_account(&actor, NewAccount { login, display_name: name, org, password, grants }).await?;
            println!("{}\t{}\t{} grant(s) (journal event {seq})", account.id, account.login, account.grants.len());
        }
        AccountCommand::Grant { login, grant } => {
            let seq = engine.grant_role(&actor, &login, parse_grant(&grant)?).await?;
            println!("granted {grant} to {login} (journal event {seq})");
        }
        AccountCommand::Disable { login } => {
            let seq = engine.set_account_disabled(&actor, &login, true).await?;
            println!("disabled {login} (journal event {seq})");
        }
        AccountCommand::Enable { login } => {
            let seq = engine.set_account_disabled(&actor, &login, false).await?;
            println!("enabled {login} (journal event {seq})");
        }
        AccountCommand::Token { login, label, days } => {
            let token = engine.issue_token(&actor, &login, &label, days).await?;
            // The only time the secret is shown; only its hash is stored.
            println!("{}", token.secret);
            eprintln!("token {} for {login}: keep it secret, it is not shown again", token.id);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_grant;

    #[test]
    fn grants_parse() {
        assert_eq!(parse_grant("mediator:331004").unwrap(), ("mediator".into(), "331004".into(), None));
        let id = uuid::Uuid::nil();
        assert_eq!(parse_grant(&format!("staff:33:{id}")).unwrap().2, Some(id));
        for bad in ["mediator", ":331004", "staff:33:not-a-uuid", "staff:"] {
            assert!(parse_grant(bad).is_err(), "{bad}");
        }
    }
}
