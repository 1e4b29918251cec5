use super::names::Role;
use super::*;

#[test]
fn properties_with_both_separators_and_comments() {
    let c = read_str("# c\n! c\nacks=all\nlinger.ms: 5\n", "p.properties", None).unwrap();
    assert_eq!((c.client, c.dialect, c.role), (Client::Java, Dialect::Properties, Role::Producer));
    assert_eq!(c.entries[1].key, "linger.ms");
    assert_eq!((c.entries[1].line, c.entries[1].column), (4, 1));
}

#[test]
fn a_log_dump_is_the_java_clients() {
    let text = "x INFO ConsumerConfig values: \n\tgroup.id = g\n\tenable.auto.commit = true\n (org.apache)\n";
    let c = read_str(text, "log", None).unwrap();
    assert_eq!((c.client, c.dialect), (Client::Java, Dialect::LogDump(Role::Consumer)));
    assert_eq!(c.entries.len(), 2);
}

#[test]
fn a_python_dict_is_librdkafkas() {
    let c = read_str("p = Producer({\n  'linger.ms': 5,\n  \"enable.idempotence\": True,\n})\n", "p.py", None).unwrap();
    assert_eq!((c.client, c.dialect), (Client::Librdkafka, Dialect::PythonDict));
    assert_eq!(c.entries[1].value, "true");
    assert_eq!((c.entries[1].line, c.entries[1].column), (3, 3));
}

#[test]
fn librdkafka_only_names_make_a_kcat_file_librdkafkas() {
    let c = read_str("queue.buffering.max.ms=5\nbootstrap.servers=b:9092\n", "k.conf", None).unwrap();
    assert_eq!(c.client, Client::Librdkafka);
}

/// The other dialect's name is named as such, with this client's name for it.
#[test]
fn a_name_of_the_other_client_says_so() {
    let e = read_str("linger.ms=5\nqueue.buffering.max.ms=5\n", "p.properties", Some(Client::Java)).unwrap_err();
    assert_eq!(e.message, "`queue.buffering.max.ms` is librdkafka's name; the Java client calls it `linger.ms`");
    assert_eq!((e.line, e.column), (2, 1));
    let e = read_str("{'fetch.max.wait.ms': 100}", "c.py", None).unwrap_err();
    assert_eq!(e.message, "`fetch.max.wait.ms` is the Java client's name; librdkafka calls it `fetch.wait.max.ms`");
}

#[test]
fn an_unknown_name_gives_the_nearest_in_both_clients() {
    let e = read_str("acks=all\n  lingr.ms=5\n", "p.properties", None).unwrap_err();
    assert_eq!((e.line, e.column), (2, 3));
    assert_eq!(e.message, "unknown config `lingr.ms` for the Java client");
    assert_eq!(e.hint.as_deref(), Some("nearest names: Java `linger.ms`, librdkafka `linger.ms`"));
}

#[test]
fn a_wrong_type_names_the_expected_type() {
    let e = read_str("linger.ms=soon\n", "p.properties", None).unwrap_err();
    assert_eq!(e.message, "`linger.ms`: expected a number of milliseconds, found `soon`");
    let e = read_str("{'enable.auto.offset.store': 'yes'}", "c.py", None).unwrap_err();
    assert!(e.message.contains("expected a boolean (true or false)"), "{}", e.message);
}

#[test]
fn librdkafka_values_translate_to_the_scenarios_java_names() {
    use names::to_java;
    assert_eq!(to_java("queue.buffering.max.ms", "5", Client::Librdkafka), Some(("linger.ms", "5".into())));
    assert_eq!(
        to_java("auto.offset.reset", "smallest", Client::Librdkafka),
        Some(("auto.offset.reset", "earliest".into()))
    );
    assert_eq!(to_java("acks", "-1", Client::Java), Some(("acks", "all".into())));
    assert_eq!(to_java("fetch.wait.max.ms", "100", Client::Librdkafka), Some(("fetch.max.wait.ms", "100".into())));
    assert_eq!(to_java("bootstrap.servers", "b", Client::Java), None);
}
